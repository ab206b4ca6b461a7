"""The human approval gate: the evidence a reviewer sees, and the rules a promotion obeys."""

from __future__ import annotations

from typing import Any

from glue_cicd.errors import Refusal

APPROVE = "Approve"
# The triggering user Airflow records for runs of ``airflow dags test`` (``DAG.test()``).
DAGS_TEST_USER = "dag_test"


class ApprovalRefused(Refusal):
    """The promotion is not backed by a valid approval."""


def eligible_approvers(approvers: list[str], triggered_by: str | None) -> list[str]:
    """Who may answer: the environment's approvers except the person who triggered the run.

    An empty list means anyone Airflow lets answer (then the promotion still refuses a
    self-approval). :raises ApprovalRefused: every approver is the person who triggered the run.
    """
    eligible = [user for user in approvers if user != triggered_by]
    if approvers and not eligible:
        raise ApprovalRefused(
            f"{triggered_by} triggered this run and is its only approver: another approver must be "
            "listed in the environment's approvers (four eyes)"
        )
    return eligible


def evidence_markdown(
    *,
    job: str,
    artifact: dict[str, Any],
    definition_diff: list[str],
    tests: dict[str, Any],
    quality: list[dict[str, Any]],
    audit: list[dict[str, Any]] | None = None,
    data_diff: list[dict[str, Any]] | None = None,
    staging_seconds: int | None,
    prod_last_seconds: int | None,
    prod_version: str | None,
    triggered_by: str | None,
    request: dict[str, Any] | None = None,
    approvers: list[str] | None = None,
    deadline: str | None = None,
) -> str:
    """The approval request's Markdown body.

    :param request: the release request (``git_ref`` asked for, ``release_notes``).
    :param approvers: who may answer (empty: anyone allowed but the person who triggered it).
    :param deadline: when an unanswered request fails (ISO 8601, UTC).
    """
    request = request or {}
    version = artifact["version"]
    same = prod_version == version
    lines = [
        f"## Publish `{job}` version `{version}` and its data to prod",
        "",
        *(
            [
                f"> **Prod already runs version `{version}`**: approving publishes this run's fresh data; the code "
                "does not change.",
                "",
            ]
            if same
            else []
        ),
        "### Release notes",
        "",
        *((request.get("release_notes") or "").strip() or "_(none given)_").splitlines(),
        "",
        f"- **Artifact:** `{artifact['uri']}` (sha256 `{artifact['sha256'][:16]}…`)",
        f"- **Git ref asked for:** `{request.get('git_ref') or 'none (the deployed checkout)'}`, "
        f"commit `{artifact.get('git_sha') or 'unknown'}`",
        f"- **Prod runs now:** `{prod_version or 'nothing (first release)'}`",
        f"- **Triggered by:** {triggered_by or 'unknown'} (may not approve this release)",
        f"- **May approve:** {', '.join(approvers) if approvers else 'anyone allowed, except who triggered it'}",
        f"- **Answer by:** {deadline or 'no deadline'} (unanswered, the release fails and prod is unchanged)",
        f"- **Tests:** {tests.get('passed', 0)} passed, {tests.get('failures', 0)} failed, "
        f"{tests.get('errors', 0)} errors, {tests.get('skipped', 0)} skipped"
        + (f" (result of {tests['tested_in']}, same content)" if tests.get("reused") else ""),
        f"- **Staging run:** {_duration(staging_seconds)} (prod's last run: {_duration(prod_last_seconds)})",
        "",
        "### Quality gate on staging",
        "",
        "| dataset | suite | passed | failed | rows | results |",
        "|---|---|---|---|---|---|",
    ]
    lines += _quality_rows(quality)
    if audit:
        lines += ["", "### Audit of the shadow run (candidate code on prod's inputs, not published)", ""]
        lines += ["| dataset | suite | passed | failed | rows | results |", "|---|---|---|---|---|---|"]
        lines += _quality_rows(audit)
    for entry in data_diff or []:
        lines += ["", entry["summary"], "", f"Full diff: `{entry['result_uri']}`"]
    lines += ["", "### Job definition change against prod", ""]
    if definition_diff:
        lines += ["```diff", *definition_diff, "```"]
    else:
        lines.append("No change to the job definition.")
    return "\n".join(lines)


def _quality_rows(results: list[dict[str, Any]]) -> list[str]:
    return [
        f"| {r['dataset']} | {r['suite']} | {r['passed']} | {r['failed']} | {r['row_count']} | "
        f"`{r.get('result_uri') or 'not stored'}` |"
        for r in results
    ]


def _duration(seconds: int | None) -> str:
    return "n/a" if seconds is None else f"{seconds} s"


def check_approval(
    response: dict[str, Any] | None, *, triggered_by: str | None, require_recorded: bool
) -> dict[str, Any] | None:
    """Check the approval task's result before promoting; return the approver (None if not recorded).

    :param response: the approval task's XCom (``chosen_options``, ``responded_by_user``), or None
        when the task was marked successful by hand.
    :param require_recorded: the environment's ``require_recorded_approval``. When False, only a
        run of ``airflow dags test`` (triggered by ``dag_test``) may promote without a recorded answer.
    :raises ApprovalRefused: no recorded approval where one is required, a rejection, or an
        approval by the person who triggered the release.
    """
    if not response:
        if require_recorded or triggered_by != DAGS_TEST_USER:
            raise ApprovalRefused(
                "the approval was marked successful by hand; only a reviewer's answer in Required Actions "
                "promotes" + ("" if require_recorded else " (outside `airflow dags test`)")
            )
        return None
    if response.get("chosen_options") != [APPROVE]:
        raise ApprovalRefused(f"the release was not approved (answer: {response.get('chosen_options')})")
    approver = response.get("responded_by_user") or {}
    if triggered_by and triggered_by in (approver.get("id"), approver.get("name")):
        raise ApprovalRefused(
            f"{approver.get('name') or approver.get('id')} triggered this release and cannot also approve it "
            "(four eyes): another approver must answer"
        )
    return approver
