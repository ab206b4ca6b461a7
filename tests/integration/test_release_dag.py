"""Release DAGs end to end with ``airflow dags test`` against the emulator (real Spark and GX).

The scenarios share one emulator and one Airflow metadata DB; each sets up the prod state it
needs (``ensure_released``), so any one runs alone (``pytest -k``) and in any order. Self-approval
and rejection are answered through a real API server in ``tests/e2e/test_approval_flow.py``, and
at the operator level in ``tests/operators``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dev import PROJECT_DIR
from dev.demo import broken_jobs_dir
from glue_cicd.generations import generation_of
from glue_cicd.paths import ENVIRONMENTS_FILE
from support.dag_runs import changed_jobs_dir, dags_test, ensure_released, glue_job

PROD_BUCKET = "glue-cicd-data-prod-123456789012"
SKIP_TESTS_AND_APPROVAL = "^(test|approval)$"


def consumers_read(aws, table: str) -> set[str | None]:
    """The generations prod consumers of ``table`` read (through the catalog)."""
    glue = aws("glue")
    try:
        found = glue.get_table(DatabaseName="glue_cicd_prod", Name=table)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return set()
    if not found["PartitionKeys"]:
        return {generation_of(found["StorageDescriptor"]["Location"])}
    partitions = glue.get_partitions(DatabaseName="glue_cicd_prod", TableName=table)["Partitions"]
    return {generation_of(p["StorageDescriptor"]["Location"]) for p in partitions}


def release(airflow, job: str, *, mark: str | None = "^approval$", jobs_dir: Path | None = None, answer=None, env=None):
    """Run ``release__<job>``, from another copy of the job sources if given."""
    env = dict(env or {}, **({"GLUE_CICD_JOBS_DIR": str(jobs_dir)} if jobs_dir else {}))
    return dags_test(airflow, f"release__{job}", mark=mark, env=env, answer=answer)


def test_every_job_is_released_and_prod_runs_the_staging_artifact(airflow, aws, ledger):
    for job, table in (("process_sales_data", "clean_sales"), ("daily_sales_summary", "daily_sales")):
        run = release(airflow, job)  # in order: the summary reads the first's output through the catalog
        assert run.state == "success", run.log[-3000:]
        assert run.tasks["rollback_prod"] == "skipped"
        assert run.tasks["cleanup_generations"] == "success"
        # Consumers read the generation the shadow run wrote and the audit passed.
        published = [e for e in ledger.events(job, "publish") if e["details"]["environment"] == "prod"][-1]
        assert consumers_read(aws, table) == {published["details"]["generation"]}
        assert "### Data diff" in run.log
        staging, prod = glue_job(aws, f"{job}-staging"), glue_job(aws, f"{job}-prod")
        assert prod["Command"]["ScriptLocation"] == staging["Command"]["ScriptLocation"]
        assert prod["Tags"]["ArtifactSha256"] == staging["Tags"]["ArtifactSha256"]
        assert prod["Tags"]["Environment"] == "prod"
        live = ledger.live(job, "prod")
        assert live.outcome == "verified"
        assert live.script_location == prod["Command"]["ScriptLocation"]
        assert run.tasks["request"] == "success"
        kinds = [e["event"] for e in ledger.events(job)]
        for kind in ("build", "test", "deployment", "quality", "data_diff", "approval", "promotion", "publish"):
            assert kind in kinds, kinds
        assert "verification" in kinds
        # The shadow job ran the candidate under its own role; prod's definition names no output.
        shadow = glue_job(aws, f"{job}-prod-shadow")
        assert shadow["Role"].endswith("role/glue-cicd-glue-shadow-role")
        assert not any(k.startswith("--output") for k in prod["DefaultArguments"])


def test_a_rerun_of_the_same_sources_publishes_fresh_data_and_changes_no_code(airflow, aws, ledger):
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
    # Same code, but the shadow run on today's prod inputs is published: a new generation.
    after = ledger.deployments("process_sales_data", "prod")
    assert len(after) == deployments + 1
    assert (after[-1].version, after[-1].definition) == (after[-2].version, after[-2].definition)
    assert after[-1].data != after[-2].data
    published = [e for e in ledger.events("process_sales_data", "publish") if e["details"]["environment"] == "prod"]
    assert consumers_read(aws, "clean_sales") == {published[-1]["details"]["generation"]}


def test_the_quality_gate_blocks_a_broken_change(airflow, aws, ledger, tmp_path):
    ensure_released(airflow, ledger, "process_sales_data")
    before = glue_job(aws, "process_sales_data-prod")
    read = consumers_read(aws, "clean_sales")
    run = release(airflow, "process_sales_data", jobs_dir=broken_jobs_dir(tmp_path), mark=SKIP_TESTS_AND_APPROVAL)
    assert run.state == "failed"
    assert run.tasks["audit_staging"] == "failed"
    assert run.tasks["publish_staging"] == "upstream_failed"
    assert run.tasks["publish"] == "upstream_failed"
    assert "audit failed in staging; nothing was published" in run.log
    assert glue_job(aws, "process_sales_data-prod")["Command"] == before["Command"]
    assert consumers_read(aws, "clean_sales") == read


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


def test_a_shadow_run_that_fails_on_prod_inputs_publishes_nothing(airflow, aws, ledger, tmp_path):
    ensure_released(airflow, ledger, "process_sales_data")
    jobs_dir = changed_jobs_dir(tmp_path, "fails in prod")
    script = jobs_dir / "process_sales_data" / "job.py"
    failing = (
        "def main(argv, *_):\n    if any('data-prod' in a for a in argv):\n        raise RuntimeError('disk full')\n"
        "    _main(argv)\n\n\ndef _main(argv"
    )
    script.write_text(script.read_text().replace("def main(argv", failing))
    prod_before, read = glue_job(aws, "process_sales_data-prod"), consumers_read(aws, "clean_sales")
    run = release(airflow, "process_sales_data", jobs_dir=jobs_dir, mark=SKIP_TESTS_AND_APPROVAL)
    assert run.state == "failed"
    assert (run.tasks["run_staging"], run.tasks["shadow_run"]) == ("success", "failed")
    assert run.tasks["publish"] == "upstream_failed"
    assert "RuntimeError: disk full" in run.log  # the driver's error log, shown by verbose=True
    assert glue_job(aws, "process_sales_data-prod")["Command"] == prod_before["Command"]
    assert consumers_read(aws, "clean_sales") == read


def test_a_held_lock_refuses_a_concurrent_release(airflow, ledger):
    ledger.acquire("process_sales_data", "staging", "rollback_glue_job/manual__other")
    try:
        run = release(airflow, "process_sales_data", mark=SKIP_TESTS_AND_APPROVAL)
    finally:
        ledger.release("process_sales_data", "staging", "rollback_glue_job/manual__other")
    assert run.state == "failed"
    assert run.tasks["deploy_staging"] == "failed"
    assert "locked by rollback_glue_job/manual__other" in run.log


def test_a_reviewers_recorded_approval_promotes(airflow, aws, ledger, tmp_path, alerts, slack_webhook):
    environments = tmp_path / "environments.yaml"
    environments.write_text(
        ENVIRONMENTS_FILE.read_text().replace("  sns: true", "  sns: true\n  slack_webhook_conn_id: slack_releases")
    )
    connection = {"conn_type": "slackwebhook", "password": slack_webhook.url}
    run = release(
        airflow,
        "process_sales_data",
        mark="^test$",
        jobs_dir=changed_jobs_dir(tmp_path, "v2"),
        answer=("reviewer", "Approve"),
        env={"GLUE_CICD_ENVIRONMENTS_FILE": str(environments), "AIRFLOW_CONN_SLACK_RELEASES": json.dumps(connection)},
    )
    assert run.state == "success", run.log[-3000:]
    live = ledger.live("process_sales_data", "prod")
    # When the approval started waiting: one message on the alerts topic and one to Slack.
    waiting = [m for m in alerts() if m["Subject"].startswith("[glue-cicd] Publish process_sales_data")]
    assert len(waiting) == 1, waiting
    assert [m["text"] for m in slack_webhook.received] == [waiting[0]["Message"]]
    for part in (f"process_sales_data {live.version}", "Triggered by: dag_test", "May approve: admin, reviewer",
                 "Answer by: 20", "/tasks/approval/required_actions"):  # fmt: skip
        assert part in waiting[0]["Message"]
    assert glue_job(aws, "process_sales_data-prod")["Command"]["ScriptLocation"] == live.script_location
    approvals = ledger.events("process_sales_data", "approval")
    assert approvals[-1]["who"] == "reviewer"
    assert approvals[-1]["details"]["recorded"] is True


def test_a_shadow_output_that_fails_its_audit_leaves_prod_data_untouched(airflow, aws, ledger, tmp_path):
    ensure_released(airflow, ledger, "process_sales_data")
    previous, read = ledger.live("process_sales_data", "prod"), consumers_read(aws, "clean_sales")
    s3 = aws("s3")
    raw = s3.list_objects_v2(Bucket=PROD_BUCKET, Prefix="raw/sales/")["Contents"]
    saved = {o["Key"]: s3.get_object(Bucket=PROD_BUCKET, Key=o["Key"])["Body"].read() for o in raw}
    # Prod's input now holds only invalid records: the candidate's shadow output is empty.
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
    assert (run.tasks["audit_staging"], run.tasks["audit"]) == ("success", "failed")
    assert run.tasks["approval"] == "upstream_failed"  # nobody is asked to approve it
    assert run.tasks["rollback_prod"] == "skipped"  # nothing was published: nothing to roll back
    assert "audit failed in prod; nothing was published" in run.log
    assert consumers_read(aws, "clean_sales") == read
    assert ledger.live("process_sales_data", "prod") == previous


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
    assert run.tasks["publish"] == "failed"
    assert "marked successful by hand" in run.log
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
