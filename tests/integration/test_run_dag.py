"""Run DAGs end to end with ``airflow dags test`` against the emulator (real Spark and GX): the live
prod release runs, what it wrote is audited and published, and a run with nothing to publish
changes nothing. Each scenario releases what it needs first (``ensure_released``)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from support.dag_runs import consumers_read, dags_test, ensure_released

pytestmark = pytest.mark.timeout(1500)


def asset_events(airflow, name: str) -> int:
    with sqlite3.connect(airflow.home / "airflow.db") as db:
        query = "SELECT count(*) FROM asset_event JOIN asset ON asset.id = asset_event.asset_id WHERE asset.name = ?"
        return db.execute(query, (name,)).fetchone()[0]


def test_a_scheduled_run_publishes_the_generation_it_wrote_and_tells_downstream(airflow, aws, ledger):
    ensure_released(airflow, ledger, "process_sales_data")
    events = asset_events(airflow, "process_sales_data.clean_sales")
    runs = len(ledger.runs("process_sales_data", "prod"))

    run = dags_test(airflow, "run__process_sales_data")

    assert run.state == "success", run.log[-3000:]
    assert run.tasks["on_failure"] == "skipped"
    [recorded] = ledger.runs("process_sales_data", "prod")[runs:]
    assert recorded["release"] == ledger.live("process_sales_data", "prod").sk
    assert recorded["generation"] in consumers_read(aws, "clean_sales")
    # The run wrote today's processed_date partition; consumers read it from the run's generation.
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    partition = aws("glue").get_partition(
        DatabaseName="glue_cicd_prod", TableName="clean_sales", PartitionValues=[today]
    )["Partition"]
    assert f"_gen={recorded['generation']}/" in partition["StorageDescriptor"]["Location"]
    assert asset_events(airflow, "process_sales_data.clean_sales") == events + 1  # daily_sales_summary's trigger
    assert ledger.lock_holder("process_sales_data", "prod") is None


def test_a_date_job_processes_its_interval_date_and_a_date_without_input_publishes_nothing(
    airflow, aws, ledger, alerts
):
    ensure_released(airflow, ledger, "customer_daily_spend")
    today = datetime.now(UTC).replace(hour=4, minute=0, second=0, microsecond=0)

    # The run whose data interval starts today at 04:00 processes today's clean-sales partition.
    run = dags_test(airflow, "run__customer_daily_spend", logical_date=(today + timedelta(days=1)).isoformat())

    assert run.state == "success", run.log[-3000:]
    [recorded] = ledger.runs("customer_daily_spend", "prod")[-1:]
    glue_run = aws("glue").get_job_runs(JobName="customer_daily_spend-prod")["JobRuns"][0]
    assert glue_run["Arguments"]["--processed_date"] == f"{today:%Y-%m-%d}"
    partitions = aws("glue").get_partitions(DatabaseName="glue_cicd_prod", TableName="customer_daily_spend")
    generation = f"_gen={recorded['generation']}/"
    mine = [p["Values"] for p in partitions["Partitions"] if generation in p["StorageDescriptor"]["Location"]]
    assert mine == [[f"{today:%Y-%m-%d}"]]
    assert recorded["generation"] in consumers_read(aws, "customer_daily_spend")
    published = consumers_read(aws, "customer_daily_spend")
    alerts()

    # A date clean_sales has no partition for (as a backfill over a range with gaps would meet).
    empty = dags_test(airflow, "run__customer_daily_spend", logical_date="2026-01-06T04:00:00+00:00")

    assert empty.state == "failed"
    assert empty.tasks["audit"] == "failed"
    assert empty.tasks["publish"] == "upstream_failed"
    assert consumers_read(aws, "customer_daily_spend") == published
    [alert] = alerts()
    assert alert["Subject"] == "[glue-cicd] run of customer_daily_spend for 2026-01-05 failed"
    assert "nothing was published" in alert["Message"]
    assert "no data files under" in alert["Message"]


def test_a_run_over_the_distributed_threshold_is_audited_and_verified_by_the_checks_job(airflow, aws, ledger, tmp_path):
    from glue_cicd.paths import ENVIRONMENTS_FILE

    ensure_released(airflow, ledger, "process_sales_data")
    config = tmp_path / "environments.yaml"
    config.write_text(ENVIRONMENTS_FILE.read_text() + "distributed_checks:\n  min_rows: 1\n")
    glue = aws("glue")

    def checks_runs() -> list[dict]:
        try:
            return glue.get_job_runs(JobName="glue-cicd-checks-prod")["JobRuns"]
        except glue.exceptions.EntityNotFoundException:
            return []

    before = {r["Id"] for r in checks_runs()}

    run = dags_test(airflow, "run__process_sales_data", env={"GLUE_CICD_ENVIRONMENTS_FILE": str(config)})

    assert run.state == "success", run.log[-3000:]
    new = [r for r in checks_runs() if r["Id"] not in before]
    assert [r["JobRunState"] for r in new] == ["SUCCEEDED", "SUCCEEDED"]  # the audit, then the post-publish check
    assert "checked by the checks job (distributed_checks)" in run.log
    [recorded] = ledger.runs("process_sales_data", "prod")[-1:]
    assert recorded["generation"] in consumers_read(aws, "clean_sales")
