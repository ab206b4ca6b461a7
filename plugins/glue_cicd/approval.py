"""The human approval gate: the evidence a reviewer sees, and the rules a promotion obeys."""

from __future__ import annotations

from typing import Any

from glue_cicd.errors import Refusal

APPROVE = "Approve"


class ApprovalRefused(Refusal):
    """The promotion is not backed by a valid approval."""


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
) -> str:
    """The approval request's Markdown body."""
    lines = [
        f"## Publish `{job}` version `{artifact['version']}` and its data to prod",
        "",
        f"- **Artifact:** `{artifact['uri']}` (sha256 `{artifact['sha256'][:16]}…`)",
        f"- **Git commit:** `{artifact.get('git_sha') or 'unknown'}`",
        f"- **Prod runs now:** `{prod_version or 'nothing (first release)'}`",
        f"- **Triggered by:** {triggered_by or 'unknown'} (may not approve this release)",
        f"- **Tests:** {tests.get('passed', 0)} passed, {tests.get('failures', 0)} failed, "
        f"{tests.get('errors', 0)} errors, {tests.get('skipped', 0)} skipped"
        + (f" (result of {tests['tested_in']}, same content)" if tests.get("reused") else ""),
        f"- **Staging run:** {_duration(staging_seconds)} (prod's last run: {_duration(prod_last_seconds)})",
        "",
        "### Quality gate on staging",
        "",
        "| dataset | suite | passed | failed | rows |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r['dataset']} | {r['suite']} | {r['passed']} | {r['failed']} | {r['row_count']} |" for r in quality]
    if audit:
        lines += ["", "### Audit of the shadow run (candidate code on prod's inputs, not published)", ""]
        lines += ["| dataset | suite | passed | failed | rows |", "|---|---|---|---|---|"]
        lines += [
            f"| {r['dataset']} | {r['suite']} | {r['passed']} | {r['failed']} | {r['row_count']} |" for r in audit
        ]
    for entry in data_diff or []:
        lines += ["", entry["summary"], "", f"Full diff: `{entry['result_uri']}`"]
    lines += ["", "### Job definition change against prod", ""]
    if definition_diff:
        lines += ["```diff", *definition_diff, "```"]
    else:
        lines.append("No change to the job definition.")
    return "\n".join(lines)


def _duration(seconds: int | None) -> str:
    return "n/a" if seconds is None else f"{seconds} s"


def check_approval(
    response: dict[str, Any] | None, *, triggered_by: str | None, require_recorded: bool
) -> dict[str, Any] | None:
    """Check the approval task's result before promoting; return the approver (None if not recorded).

    :param response: the approval task's XCom (``chosen_options``, ``responded_by_user``), or None
        when the task was marked successful by hand.
    :raises ApprovalRefused: no recorded approval where one is required, a rejection, or an
        approval by the person who triggered the release.
    """
    if not response:
        if require_recorded:
            raise ApprovalRefused(
                "no recorded approval: the approval task was marked successful without a reviewer's answer, "
                "and the prod environment requires a recorded approval (require_recorded_approval)"
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
