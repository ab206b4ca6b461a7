"""A date job backfilled with Airflow's own backfill on a real server (``airflow standalone``): one
audited generation and one published partition per date, and a date without input publishes
nothing and sends one alert. Prod holds earlier days of clean sales (copies of the released day,
as daily runs would have left them) and one day without any. The days follow the DAG's timetable,
so the test holds at any time of day: unpaused, the scheduler runs the latest complete interval,
which before 04:00 UTC is the day before yesterday's.
"""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from airflow.timetables.base import TimeRestriction
from airflow.timetables.interval import CronDataIntervalTimetable

from dev.local_airflow import AIRFLOW, AirflowApi, AirflowStandalone, airflow_env, free_port, migrate
from glue_cicd.hooks.ledger import LedgerHook
from glue_cicd.publish import PARTITION_INPUT_KEYS
from glue_cicd.spec import load_jobs
from support.dag_runs import PROD_BUCKET, consumers_read, ensure_released

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(2400)]
DAG = "run__customer_daily_spend"
DB = "glue_cicd_prod"


@pytest.fixture(scope="module")
def released(emulator, tmp_path_factory):
    """An Airflow home whose database has released process_sales_data and customer_daily_spend."""
    home = tmp_path_factory.mktemp("airflow-backfill")
    env = airflow_env(home, emulator.endpoint_url)
    migrate(env)
    (home / "test-logs").mkdir()
    airflow = SimpleNamespace(home=home, env=env, logs=home / "test-logs")
    ensure_released(airflow, LedgerHook(aws_conn_id="aws_default", table="glue-cicd-release-ledger"), DAG[5:])
    return airflow


def latest_scheduled_day() -> date:
    """The date the scheduler's first run processes once the DAG is unpaused (catchup off): the
    start of the latest complete interval of the job's schedule."""
    [spec] = [s for name, s in load_jobs()[0].items() if name == DAG[5:]]
    timetable = CronDataIntervalTimetable(spec.run.schedule, "UTC")
    restriction = TimeRestriction(earliest=datetime(2026, 1, 1, tzinfo=UTC), latest=None, catchup=False)
    info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    return info.data_interval.start.date()


@pytest.fixture
def earlier_days(aws, released):
    """clean_sales partitions for the scheduler's first day and the two before it, as daily runs
    leave them: copies of the release's own day (today)."""
    glue, s3 = aws("glue"), aws("s3")
    today = datetime.now(UTC).date()
    source = glue.get_partition(DatabaseName=DB, TableName="clean_sales", PartitionValues=[str(today)])["Partition"]
    latest = latest_scheduled_day()
    days = [latest - timedelta(days=n) for n in (0, 1, 2)]
    generation = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    prefix = source["StorageDescriptor"]["Location"].removeprefix(f"s3://{PROD_BUCKET}/")
    objects = s3.list_objects_v2(Bucket=PROD_BUCKET, Prefix=prefix)["Contents"]
    partitions = []
    for day in days:
        target = f"curated/sales/_gen={generation}/processed_date={day}/"
        for obj in objects:
            name = obj["Key"][len(prefix) :]
            s3.copy_object(Bucket=PROD_BUCKET, Key=target + name, CopySource={"Bucket": PROD_BUCKET, "Key": obj["Key"]})
        descriptor = dict(source["StorageDescriptor"], Location=f"s3://{PROD_BUCKET}/{target}")
        partitions.append({**{k: source[k] for k in PARTITION_INPUT_KEYS if k in source}, "Values": [str(day)],
                           "StorageDescriptor": descriptor})  # fmt: skip
    glue.batch_create_partition(DatabaseName=DB, TableName="clean_sales", PartitionInputList=partitions)
    yield days
    glue.batch_delete_partition(
        DatabaseName=DB, TableName="clean_sales", PartitionsToDelete=[{"Values": [str(d)]} for d in days]
    )


def test_a_backfill_publishes_one_audited_generation_per_date_and_skips_none_silently(
    emulator, aws, released, earlier_days, alerts
):
    ledger = LedgerHook(aws_conn_id="aws_default", table="glue-cicd-release-ledger")
    runs_before = len(ledger.runs("customer_daily_spend", "prod"))
    missing = earlier_days[-1] - timedelta(days=1)  # no clean sales that day
    alerts()
    airflow = AirflowStandalone(released.env, users=("admin:admin",), port=free_port())
    try:
        airflow.start()
        api = AirflowApi(airflow.url, "admin", airflow.passwords()["admin"])
        assert api.parsed_dag(DAG)["is_paused"] is True  # the emulator's environments file: paused
        # Unpaused, it also runs its latest complete interval (earlier_days[0]) on its schedule.
        api.call("PATCH", f"/api/v2/dags/{DAG}", {"is_paused": False})
        for _ in range(3):
            backfill = subprocess.run(
                [AIRFLOW, "backfill", "create", "--dag-id", DAG, "--from-date", f"{missing}T04:00:00+00:00",
                 "--to-date", f"{earlier_days[1]}T04:00:00+00:00", "--max-active-runs", "1"],
                env=released.env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            # SQLite (WAL) refuses a read transaction's upgrade to a write at once, whatever the busy
            # timeout, when the scheduler wrote meanwhile: the CLI's transaction rolled back; try again.
            created = api.call("GET", f"/api/v2/backfills?dag_id={DAG}")["backfills"]
            if backfill.returncode == 0 or created or "database is locked" not in backfill.stderr:
                break
        assert backfill.returncode == 0 or created, backfill.stderr[-3000:]

        def finished():
            runs = api.call("GET", f"/api/v2/dags/{DAG}/dagRuns?limit=50")["dag_runs"]
            done = {r["data_interval_start"][:10]: r["state"] for r in runs if r["state"] in ("success", "failed")}
            return done if len(done) == 4 else None

        states = api.wait("the backfill and the scheduled run to finish", finished, timeout=1800, interval=5)
    finally:
        airflow.stop(timeout=30)

    assert states == {str(d): "success" for d in earlier_days} | {str(missing): "failed"}, states
    new = ledger.runs("customer_daily_spend", "prod")[runs_before:]
    assert len({r["generation"] for r in new}) == 3  # one generation per date
    partitions = aws("glue").get_partitions(DatabaseName=DB, TableName="customer_daily_spend")["Partitions"]
    by_day = {p["Values"][0]: p["StorageDescriptor"]["Location"] for p in partitions}
    for run in new:
        [day] = [d for d, loc in by_day.items() if f"_gen={run['generation']}/" in loc]
        assert day in {str(d) for d in earlier_days}
    assert str(missing) not in by_day
    assert {r["generation"] for r in new} <= consumers_read(aws, "customer_daily_spend")
    # One alert for the date without input (the revalidation may send its own: prod's clean sales
    # now hold the same sales under several days).
    [alert] = [a for a in alerts() if a["Subject"].startswith("[glue-cicd] run of customer_daily_spend")]
    assert alert["Subject"] == f"[glue-cicd] run of customer_daily_spend for {missing} failed"
    assert "nothing was published" in alert["Message"]
    assert "no data files under" in alert["Message"]
