"""Release DAGs end to end with ``airflow dags test`` against the emulator (real Spark and GX).

The scenarios share one emulator and one Airflow metadata DB; each sets up the prod state it
needs (``ensure_released``), so any one runs alone (``pytest -k``) and in any order.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dev import PROJECT_DIR
from dev.demo import broken_jobs_dir
from glue_cicd.deploy import normalise
from support.dag_runs import changed_jobs_dir, dags_test, ensure_released, glue_job

PROD_BUCKET = "glue-cicd-data-prod-123456789012"
SKIP_TESTS_AND_APPROVAL = "^(test|approval)$"


def release(airflow, job: str, *, mark: str | None = "^approval$", jobs_dir: Path | None = None, answer=None):
    """Run ``release__<job>``, from another copy of the job sources if given."""
    env = {"GLUE_CICD_JOBS_DIR": str(jobs_dir)} if jobs_dir else None
    return dags_test(airflow, f"release__{job}", mark=mark, env=env, answer=answer)


def test_every_job_is_released_and_prod_runs_the_staging_artifact(airflow, aws, ledger):
    for job in ("process_sales_data", "daily_sales_summary"):  # in order: the summary reads the first's output
        run = release(airflow, job)
        assert run.state == "success", run.log[-3000:]
        assert run.tasks["rollback_prod"] == "skipped"
        staging, prod = glue_job(aws, f"{job}-staging"), glue_job(aws, f"{job}-prod")
        assert prod["Command"]["ScriptLocation"] == staging["Command"]["ScriptLocation"]
        assert prod["Tags"]["ArtifactSha256"] == staging["Tags"]["ArtifactSha256"]
        assert prod["Tags"]["Environment"] == "prod"
        live = ledger.live(job, "prod")
        assert live.outcome == "verified"
        assert live.script_location == prod["Command"]["ScriptLocation"]
        assert run.tasks["request"] == "success"
        kinds = [e["event"] for e in ledger.events(job)]
        for kind in ("build", "test", "deployment", "quality", "approval", "promotion", "verification"):
            assert kind in kinds, kinds
    outputs = aws("s3").list_objects_v2(Bucket=PROD_BUCKET, Prefix="marts/daily_sales/")["Contents"]
    assert any(o["Key"].endswith(".parquet") for o in outputs)


def test_a_rerun_of_the_same_sources_changes_nothing(airflow, aws, ledger):
    first = release(airflow, "process_sales_data")  # prod runs these sources, tested
    assert first.state == "success", first.log[-3000:]
    before = glue_job(aws, "process_sales_data-prod")
    deployments = len(ledger.deployments("process_sales_data", "prod"))
    run = release(airflow, "process_sales_data")
    assert run.state == "success", run.log[-3000:]
    assert "on the same content" in run.log  # the first release's passing tests stand
    tests = ledger.events("process_sales_data", "test")
    assert tests[-1]["details"]["reused"] is True
    key = tests[-1]["details"]["key"]
    tested = [t for t in tests if t["details"].get("key") == key and not t["details"].get("reused")]
    assert tests[-1]["details"]["tested_in"] == tested[-1]["run_id"] != tests[-1]["run_id"]
    assert glue_job(aws, "process_sales_data-prod")["Command"] == before["Command"]
    assert len(ledger.deployments("process_sales_data", "prod")) == deployments


def test_the_quality_gate_blocks_a_broken_change(airflow, aws, ledger, tmp_path):
    ensure_released(airflow, ledger, "process_sales_data")
    before = glue_job(aws, "process_sales_data-prod")
    run = release(airflow, "process_sales_data", jobs_dir=broken_jobs_dir(tmp_path), mark=SKIP_TESTS_AND_APPROVAL)
    assert run.state == "failed"
    assert run.tasks["quality_gate"] == "failed"
    assert run.tasks["promote_prod"] == "upstream_failed"
    assert "quality gate failed in staging" in run.log
    assert glue_job(aws, "process_sales_data-prod")["Command"] == before["Command"]


def test_failing_job_tests_stop_the_release(airflow, aws, ledger, tmp_path):
    ensure_released(airflow, ledger, "process_sales_data")
    jobs_dir = changed_jobs_dir(tmp_path, "failing tests")
    (jobs_dir / "process_sales_data" / "tests" / "test_broken.py").write_text("def test_broken():\n    assert 1 == 2\n")
    staging_before = glue_job(aws, "process_sales_data-staging")
    run = release(airflow, "process_sales_data", jobs_dir=jobs_dir)
    assert run.state == "failed"
    assert run.tasks["test"] == "failed"
    assert run.tasks["deploy_staging"] == "upstream_failed"
    assert "test_broken" in run.log
    assert glue_job(aws, "process_sales_data-staging")["Command"] == staging_before["Command"]


def test_a_failed_staging_run_stops_the_release(airflow, aws, ledger, tmp_path):
    ensure_released(airflow, ledger, "process_sales_data")
    jobs_dir = changed_jobs_dir(tmp_path, "failing run")
    script = jobs_dir / "process_sales_data" / "job.py"
    script.write_text(
        script.read_text().replace(
            "def main(argv", "def main(argv, *_):\n    raise RuntimeError('disk full')\n\n\ndef _unused(argv"
        )
    )
    prod_before = glue_job(aws, "process_sales_data-prod")
    run = release(airflow, "process_sales_data", jobs_dir=jobs_dir, mark=SKIP_TESTS_AND_APPROVAL)
    assert run.state == "failed"
    assert run.tasks["run_staging"] == "failed"
    assert "RuntimeError: disk full" in run.log  # the driver's error log, shown by verbose=True
    assert glue_job(aws, "process_sales_data-prod")["Command"] == prod_before["Command"]


def test_a_held_lock_refuses_a_concurrent_release(airflow, ledger):
    ledger.acquire("process_sales_data", "staging", "rollback_glue_job/manual__other")
    try:
        run = release(airflow, "process_sales_data", mark=SKIP_TESTS_AND_APPROVAL)
    finally:
        ledger.release("process_sales_data", "staging", "rollback_glue_job/manual__other")
    assert run.state == "failed"
    assert run.tasks["deploy_staging"] == "failed"
    assert "locked by rollback_glue_job/manual__other" in run.log


def test_self_approval_is_refused(airflow, aws, ledger, tmp_path):
    ensure_released(airflow, ledger, "process_sales_data")
    before = glue_job(aws, "process_sales_data-prod")
    # `airflow dags test` triggers as "dag_test": that user's own approval must not promote.
    run = release(
        airflow,
        "process_sales_data",
        mark="^test$",
        jobs_dir=changed_jobs_dir(tmp_path, "v2"),
        answer=("dag_test", "Approve"),
    )
    assert run.state == "failed"
    assert run.tasks["approval"] == "success"
    assert run.tasks["promote_prod"] == "failed"
    assert "cannot also approve it (four eyes)" in run.log
    assert glue_job(aws, "process_sales_data-prod")["Command"] == before["Command"]


def test_a_reviewers_recorded_approval_promotes(airflow, aws, ledger, tmp_path):
    run = release(
        airflow,
        "process_sales_data",
        mark="^test$",
        jobs_dir=changed_jobs_dir(tmp_path, "v2"),
        answer=("reviewer", "Approve"),
    )
    assert run.state == "success", run.log[-3000:]
    live = ledger.live("process_sales_data", "prod")
    assert glue_job(aws, "process_sales_data-prod")["Command"]["ScriptLocation"] == live.script_location
    approvals = ledger.events("process_sales_data", "approval")
    assert approvals[-1]["who"] == "reviewer"
    assert approvals[-1]["details"]["recorded"] is True


def test_a_rejection_leaves_prod_untouched(airflow, aws, ledger, tmp_path):
    ensure_released(airflow, ledger, "process_sales_data")
    before = glue_job(aws, "process_sales_data-prod")
    run = release(
        airflow,
        "process_sales_data",
        mark="^test$",
        jobs_dir=changed_jobs_dir(tmp_path, "v3"),
        answer=("reviewer", "Reject"),
    )
    assert run.state == "failed"
    assert run.tasks["approval"] == "failed"
    assert run.tasks["promote_prod"] == "upstream_failed"
    assert glue_job(aws, "process_sales_data-prod")["Command"] == before["Command"]


def test_failed_verification_rolls_prod_back_to_the_previous_release(airflow, aws, ledger, tmp_path):
    ensure_released(airflow, ledger, "process_sales_data")
    previous = ledger.live("process_sales_data", "prod")
    s3 = aws("s3")
    raw = s3.list_objects_v2(Bucket=PROD_BUCKET, Prefix="raw/sales/")["Contents"]
    saved = {o["Key"]: s3.get_object(Bucket=PROD_BUCKET, Key=o["Key"])["Body"].read() for o in raw}
    # Prod's input now holds only invalid records: the new release writes no rows and fails verification.
    for key in saved:
        s3.delete_object(Bucket=PROD_BUCKET, Key=key)
    header = saved[next(iter(saved))].decode().splitlines()[0]
    columns = header.split(",")
    row = ",".join("-5" if c == "amount" else ("s-bad" if c == "sale_id" else "") for c in columns)
    s3.put_object(Bucket=PROD_BUCKET, Key="raw/sales/bad.csv", Body=f"{header}\n{row}\n".encode())
    try:
        run = release(
            airflow, "process_sales_data", jobs_dir=changed_jobs_dir(tmp_path, "v4"), mark=SKIP_TESTS_AND_APPROVAL
        )
    finally:
        s3.delete_object(Bucket=PROD_BUCKET, Key="raw/sales/bad.csv")
        for key, body in saved.items():
            s3.put_object(Bucket=PROD_BUCKET, Key=key, Body=body)
    assert run.state == "failed"
    assert run.tasks["verify_prod"] == "failed"
    assert run.tasks["rollback_prod"] == "failed"  # restores prod, then fails the run with the reason
    assert f"rolled back to {previous.version}" in run.log
    assert normalise(aws("glue").get_job(JobName="process_sales_data-prod")["Job"]) == previous.definition
    deployments = ledger.deployments("process_sales_data", "prod")
    assert deployments[-1].version == previous.version
    assert deployments[-1].definition == previous.definition
    assert deployments[-2].outcome == "failed"


def test_the_default_environments_config_refuses_a_hand_marked_approval(airflow, aws, ledger, tmp_path):
    """Without GLUE_CICD_ENVIRONMENTS_FILE the strict default applies: marking the approval task
    successful by hand (as `dags test --mark-success-pattern` does) never promotes."""
    assert "require_recorded_approval" not in (PROJECT_DIR / "infrastructure" / "environments.yaml").read_text()
    ensure_released(airflow, ledger, "process_sales_data")
    before = glue_job(aws, "process_sales_data-prod")
    run = dags_test(
        airflow,
        "release__process_sales_data",
        mark=SKIP_TESTS_AND_APPROVAL,
        env={"GLUE_CICD_JOBS_DIR": str(changed_jobs_dir(tmp_path, "hand-marked"))},
        unset=("GLUE_CICD_ENVIRONMENTS_FILE",),
    )
    assert run.state == "failed"
    assert run.tasks["approval"] == "success"  # marked by hand
    assert run.tasks["promote_prod"] == "failed"
    assert "no recorded approval" in run.log
    assert glue_job(aws, "process_sales_data-prod")["Command"] == before["Command"]


def test_one_scenario_runs_alone(tmp_path):
    """`pytest -k` on one scenario, in a fresh session (its own emulator and Airflow): it sets up
    the prod state it needs."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider",
         "-k", "test_the_quality_gate_blocks_a_broken_change", f"--basetemp={tmp_path / 'alone'}"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=1500, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
