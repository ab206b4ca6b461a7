"""Release DAGs that must not reach prod, with ``airflow dags test`` against the emulator: each
fault stops the release where it should and consumers keep reading the published data.

Each scenario sets up the prod state it needs (``ensure_released``), so any one runs alone
(``test_one_scenario_runs_alone`` proves it in a fresh session) and in any order.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from dev import PROJECT_DIR
from dev.demo import broken_jobs_dir
from support.dag_runs import (
    PROD_BUCKET,
    SKIP_TESTS_AND_APPROVAL,
    changed_jobs_dir,
    consumers_read,
    dags_test,
    ensure_released,
    glue_job,
    release,
)

# A scenario may first release the jobs it needs (ensure_released): minutes each when the machine is shared.
pytestmark = pytest.mark.timeout(1500)


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
