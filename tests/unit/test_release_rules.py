"""Pure release rules: approvals, definition rendering and diffs, rollback targets, test reports."""

from __future__ import annotations

import pytest

from glue_cicd import deploy
from glue_cicd.approval import (
    DAGS_TEST_USER,
    ApprovalRefused,
    check_approval,
    eligible_approvers,
    evidence_markdown,
)
from glue_cicd.build import Artifact
from glue_cicd.job_tests import job_tests_key, parse_junit
from glue_cicd.ledger import Deployment
from glue_cicd.notifications import approval_waiting_text
from glue_cicd.rollback import RollbackError, choose_target, runs_to_undo
from glue_cicd.spec import load_environments, load_jobs
from local_aws.executor import _error_message

APPROVED = {"chosen_options": ["Approve"], "responded_by_user": {"id": "reviewer", "name": "reviewer"}}


def test_a_reviewers_approval_is_accepted():
    assert check_approval(APPROVED, triggered_by="admin", require_recorded=True) == {
        "id": "reviewer",
        "name": "reviewer",
    }


def test_self_approval_is_refused():
    with pytest.raises(ApprovalRefused, match="reviewer triggered this release and cannot also approve it"):
        check_approval(APPROVED, triggered_by="reviewer", require_recorded=False)


def test_an_approval_marked_by_hand_promotes_only_in_dags_test_where_the_environment_allows_it():
    with pytest.raises(ApprovalRefused, match="marked successful by hand") as refused:
        check_approval(None, triggered_by="admin", require_recorded=True)
    assert len(str(refused.value)) < 120  # one line on screen
    with pytest.raises(ApprovalRefused, match="outside `airflow dags test`"):
        check_approval(None, triggered_by="admin", require_recorded=False)  # the UI's "Mark as success"
    with pytest.raises(ApprovalRefused, match="marked successful by hand"):
        check_approval(None, triggered_by=None, require_recorded=False)  # a scheduled or API-created run
    with pytest.raises(ApprovalRefused, match="marked successful by hand"):
        check_approval(None, triggered_by=DAGS_TEST_USER, require_recorded=True)
    assert check_approval(None, triggered_by=DAGS_TEST_USER, require_recorded=False) is None


def test_the_person_who_triggered_a_run_is_not_among_its_approvers():
    assert eligible_approvers(["admin", "reviewer"], "admin") == ["reviewer"]
    assert eligible_approvers(["admin", "reviewer"], None) == ["admin", "reviewer"]
    assert eligible_approvers([], "admin") == []  # anyone allowed; publish refuses a self-approval
    with pytest.raises(ApprovalRefused, match="admin triggered this run and is its only approver"):
        eligible_approvers(["admin"], "admin")


def test_a_rejection_never_promotes():
    with pytest.raises(ApprovalRefused, match="not approved"):
        check_approval({**APPROVED, "chosen_options": ["Reject"]}, triggered_by="admin", require_recorded=False)


def test_an_unknown_triggering_user_does_not_block_an_approval():
    assert check_approval(APPROVED, triggered_by=None, require_recorded=True)["id"] == "reviewer"


@pytest.fixture(scope="module")
def project():
    environments = load_environments()
    specs, errors = load_jobs(environments=environments)
    assert not errors
    return environments, specs


def artifact(version="abc123def456"):
    return Artifact("process_sales_data", version, "f" * 64, "glue-cicd-artifacts-123456789012", "0123abc")


def test_the_rendered_definition_is_complete_and_per_environment(project):
    environments, specs = project
    staging = deploy.render_definition(specs["process_sales_data"], environments["staging"], artifact())
    prod = deploy.render_definition(specs["process_sales_data"], environments["prod"], artifact())
    assert set(staging) == set(deploy.DEFINITION_KEYS)
    arguments = staging["DefaultArguments"]
    assert arguments["--input_path"] == "s3://glue-cicd-data-staging-123456789012/raw/sales/"
    assert arguments["--summary_path"] == "s3://glue-cicd-data-staging-123456789012/run-summaries/process_sales_data/"
    assert arguments["--extra-py-files"].endswith("/process_sales_data/abc123def456/libs.zip")
    assert arguments["--release_version"] == "abc123def456"
    assert staging["Command"]["ScriptLocation"] == prod["Command"]["ScriptLocation"]
    # Outputs are not in the definition: each run gets a new generation to write.
    assert "--output_path" not in prod["DefaultArguments"]
    run = deploy.run_arguments(specs["process_sales_data"], environments["prod"], "20261125T093000-3f2a1c")
    assert run == {
        "--output_path": "s3://glue-cicd-data-prod-123456789012/curated/sales/_gen=20261125T093000-3f2a1c/",
        "--job-bookmark-option": "job-bookmark-disable",  # a release's run processes the whole input
    }
    shadow_run = deploy.run_arguments(specs["process_sales_data"], environments["prod"], "g1", shadow=True)
    assert shadow_run == {
        **run,
        "--output_path": "s3://glue-cicd-data-prod-123456789012/curated/sales/_gen=g1/",
        "--summary_path": "s3://glue-cicd-data-prod-123456789012/run-summaries/process_sales_data/_gen=g1/",
        "--TempDir": "s3://glue-cicd-data-prod-123456789012/_glue_temp/_gen=g1/",
    }  # the shadow role may write nothing but generation prefixes
    # Another job's output is read through the environment's catalog.
    summary = deploy.render_definition(specs["daily_sales_summary"], environments["prod"], artifact())
    assert summary["DefaultArguments"]["--input_table"] == "glue_cicd_prod.clean_sales"
    shadow = deploy.render_definition(
        specs["process_sales_data"], environments["prod"], artifact(), role=environments["prod"].shadow_glue_role_arn
    )
    assert shadow["Role"].endswith(":role/glue-cicd-glue-shadow-role")
    assert {k: v for k, v in shadow.items() if k != "Role"} == {k: v for k, v in prod.items() if k != "Role"}


def test_diff_names_each_changed_member(project):
    environments, specs = project
    old = deploy.render_definition(specs["process_sales_data"], environments["prod"], artifact("aaaa"))
    new = {**old, "NumberOfWorkers": 5, "DefaultArguments": {**old["DefaultArguments"], "--release_version": "bbbb"}}
    assert deploy.diff(old, new) == [
        "~ DefaultArguments.--release_version: 'aaaa' -> 'bbbb'",
        "~ NumberOfWorkers: 2 -> 5",
    ]
    assert deploy.diff(old, old) == []
    assert deploy.check_drift(None, None, "job") == []
    assert deploy.check_drift(old, None, "job") == ["job exists but the ledger never deployed it"]


def deployment(version: str, outcome: str = "verified") -> Deployment:
    return Deployment("job", "prod", version, "sha", f"s3://b/job/{version}/job.py", {}, outcome, "t", "r", version)


def test_rollback_targets():
    history = [deployment("v1"), deployment("v2", "rolled_back"), deployment("v3", "failed"), deployment("v4")]
    assert choose_target(history, job="job", env="prod", version=None, failed_version=None).version == "v1"
    assert choose_target(history, job="job", env="prod", version="v3", failed_version=None).version == "v3"
    assert choose_target(history, job="job", env="prod", version=None, failed_version="v5").version == "v4"
    with pytest.raises(
        RollbackError, match=r"never deployed to prod; released versions \(newest first\): v4, v3, v2, v1"
    ):
        choose_target(history, job="job", env="prod", version="v9", failed_version=None)
    with pytest.raises(RollbackError, match="has never been released to prod"):
        choose_target([], job="job", env="prod", version=None, failed_version=None)
    with pytest.raises(RollbackError, match="no earlier release in prod than v1"):
        choose_target([deployment("v1")], job="job", env="prod", version=None, failed_version=None)


def test_a_scheduled_run_writes_whole_partitions_and_a_date_job_gets_its_date(project):
    environments, specs = project
    prod = environments["prod"]
    sales = deploy.scheduled_run_arguments(specs["process_sales_data"], prod, "g1", None)
    assert sales == {
        "--output_path": "s3://glue-cicd-data-prod-123456789012/curated/sales/_gen=g1/",
        "--job-bookmark-option": "job-bookmark-disable",  # a publish replaces what the run wrote
    }
    spend = deploy.scheduled_run_arguments(specs["customer_daily_spend"], prod, "g2", "2026-11-20")
    assert spend == {
        "--output_path": "s3://glue-cicd-data-prod-123456789012/marts/customer_daily_spend/_gen=g2/",
        "--processed_date": "2026-11-20",
        "--job-bookmark-option": "job-bookmark-disable",
    }
    with pytest.raises(ValueError, match=r"processes one date \(--processed_date\): a run needs its date"):
        deploy.scheduled_run_arguments(specs["customer_daily_spend"], prod, "g3", None)


def test_a_rollback_undoes_the_runs_of_later_releases_and_keeps_the_targets_own():
    target = Deployment("job", "prod", "v1", "sha", "s3://b/job/v1/job.py", {}, "verified", "2026-11-02", "r", "D1")

    def run(at: str, release: str, outcome: str = "published") -> dict:
        return {"at": at, "release": release, "outcome": outcome, "generation": at}

    runs = [run("2026-11-01", "D0"), run("2026-11-03", "D1"), run("2026-11-05", "D2"),
            run("2026-11-06", "D2", "withdrawn"), run("2026-11-07", "D2")]  # fmt: skip
    assert [r["at"] for r in runs_to_undo(runs, target)] == ["2026-11-05", "2026-11-07"]


def test_evidence_shows_what_a_reviewer_needs():
    body = evidence_markdown(
        job="process_sales_data",
        artifact={**artifact().to_dict()},
        definition_diff=["~ NumberOfWorkers: 2 -> 5"],
        tests={"passed": 17, "failures": 0, "errors": 0, "skipped": 1},
        quality=[{"dataset": "s3://b/curated/", "suite": "clean_sales", "passed": 20, "failed": 0, "row_count": 1860}],
        staging_seconds=14,
        prod_last_seconds=12,
        prod_version="0000aaaa1111",
        triggered_by="admin",
        request={"git_ref": "release/7", "release_notes": "Rounds amounts to cents.\nFixes #12."},
        approvers=["reviewer"],
        deadline="2026-11-27 10:00 UTC",
    )
    for text in ("abc123def456", "0123abc", "17 passed", "clean_sales | 20 | 0 | 1860 |", "NumberOfWorkers: 2 -> 5",
                 "14 s (prod's last run: 12 s)", "0000aaaa1111", "admin (may not approve this release)",
                 "Rounds amounts to cents.\nFixes #12.", "`release/7`", "**May approve:** reviewer",
                 "**Answer by:** 2026-11-27 10:00 UTC"):  # fmt: skip
        assert text in body
    assert "already runs" not in body


def test_evidence_says_when_prod_already_runs_the_version_and_when_notes_are_missing():
    body = evidence_markdown(
        job="process_sales_data",
        artifact=artifact().to_dict(),
        definition_diff=[],
        tests={},
        quality=[
            {"dataset": "d", "suite": "s", "passed": 1, "failed": 0, "row_count": 3, "result_uri": "s3://b/r.json"}
        ],
        staging_seconds=None,
        prod_last_seconds=None,
        prod_version="abc123def456",
        triggered_by=None,
    )
    assert "**Prod already runs version `abc123def456`**" in body
    assert "_(none given)_" in body
    assert "none (the deployed checkout)" in body
    assert "| d | s | 1 | 0 | 3 | `s3://b/r.json` |" in body


def test_the_approval_waiting_message_names_what_who_until_when_and_where():
    text = approval_waiting_text(
        subject="Publish process_sales_data abc123def456 and its data to prod?",
        dag_id="release__process_sales_data",
        run_id="manual__2026-11-26",
        triggered_by="admin",
        approvers=["reviewer"],
        deadline="2026-11-27 10:00 UTC",
        link="http://localhost:8080/dags/release__process_sales_data/runs/manual__2026-11-26/tasks/approval/required_actions",
    )
    for part in ("process_sales_data abc123def456", "Triggered by: admin", "May approve: reviewer",
                 "Answer by: 2026-11-27 10:00 UTC", "/tasks/approval/required_actions"):  # fmt: skip
        assert part in text


def test_junit_counts():
    xml = b"""<testsuites><testsuite tests="4" failures="1" errors="0" skipped="1" time="2.5">
        <testcase classname="t" name="ok"/><testcase classname="t" name="bad"><failure/></testcase>
        </testsuite></testsuites>"""
    report = parse_junit(xml)
    assert (report.tests, report.failures, report.skipped, report.passed, report.ok) == (4, 1, 1, 2, False)
    assert report.failed_tests == ["t::bad"]


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        (["Traceback (most recent call last):", '  File "x.py"', "ValueError: bad amount"], "ValueError: bad amount"),
        (["pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not exist: /x"],
         "AnalysisException: [PATH_NOT_FOUND] Path does not exist: /x"),
        (["KeyboardInterrupt"], "The job script exited with code 3: KeyboardInterrupt"),
        ([], "The job script exited with code 3."),
    ],
)  # fmt: skip
def test_run_error_messages_read_like_glue(stderr, message):
    assert _error_message(stderr, 3) == message


def test_a_test_result_key_covers_the_version_and_every_job_file(tmp_path):
    tests = tmp_path / "sales" / "tests"
    (tests / "__pycache__").mkdir(parents=True)
    (tests / "test_a.py").write_text("def test_a():\n    pass\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "transforms.py").write_text("X = 1\n")
    key = job_tests_key(tmp_path, "0123456789ab")

    (tests / "__pycache__" / "test_a.cpython-311.pyc").write_bytes(b"compiled")
    assert job_tests_key(tmp_path, "0123456789ab") == key
    assert job_tests_key(tmp_path, "ba9876543210") != key
    (tests / "data.csv").write_text("a\n1\n")
    changed = job_tests_key(tmp_path, "0123456789ab")
    assert changed != key
    (tmp_path / "other" / "transforms.py").write_text("X = 2\n")  # tests may import another job's modules
    assert job_tests_key(tmp_path, "0123456789ab") != changed
