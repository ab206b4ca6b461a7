"""Scheduled revalidation of prod data, and on-demand rollback, with ``airflow dags test``."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_cicd.deploy import normalise
from glue_cicd.generations import generation_of
from support.dag_runs import changed_jobs_dir, dags_test, ensure_released, glue_job

# A scenario may first release the jobs it needs (ensure_released): minutes each when the machine is shared.
pytestmark = pytest.mark.timeout(1500)

PROD_BUCKET = "glue-cicd-data-prod-123456789012"
JOBS = ("process_sales_data", "daily_sales_summary")


@pytest.fixture(scope="module")
def released(airflow, aws, ledger):
    """Both jobs live in prod, their outputs published (in order: the summary reads the first's)."""
    ensure_released(airflow, ledger, "daily_sales_summary")


def published_locations(aws, table: str) -> list[str]:
    """Where prod consumers of ``table`` read (the table's or each partition's location)."""
    glue = aws("glue")
    found = glue.get_table(DatabaseName="glue_cicd_prod", Name=table)["Table"]
    if not found["PartitionKeys"]:
        return [found["StorageDescriptor"]["Location"]]
    partitions = glue.get_partitions(DatabaseName="glue_cicd_prod", TableName=table)["Partitions"]
    return [p["StorageDescriptor"]["Location"] for p in partitions]


def objects_under(s3, uri: str) -> dict[str, bytes]:
    prefix = uri.removeprefix(f"s3://{PROD_BUCKET}/")
    listed = s3.list_objects_v2(Bucket=PROD_BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=PROD_BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def test_revalidation_passes_after_releases(airflow, ledger, released, alerts):
    run = dags_test(airflow, "revalidate_prod_datasets")
    assert run.state == "success", run.log[-3000:]
    assert run.tasks["revalidate"] == "success"
    for job in JOBS:
        latest = ledger.events(job, "revalidation")[-1]
        assert latest["details"]["success"] is True
        assert latest["details"]["version"] == ledger.live(job, "prod").version
    assert alerts() == []


def test_bad_prod_data_fails_revalidation_with_one_alert_per_dataset(airflow, aws, ledger, released, alerts):
    s3 = aws("s3")
    # Bad rows land in a published partition (what consumers read, through the catalog) ...
    published = objects_under(s3, published_locations(aws, "clean_sales")[0])
    part = next(k for k in published if k.endswith(".parquet"))
    table = pq.read_table(io.BytesIO(published[part])).slice(0, 3)
    table = table.set_column(table.schema.get_field_index("amount"), "amount", pa.array([-1.0, -2.0, -3.0]))
    bad = io.BytesIO()
    pq.write_table(table, bad)
    bad_key = part.rsplit("/", 1)[0] + "/part-injected-bad.parquet"
    s3.put_object(Bucket=PROD_BUCKET, Key=bad_key, Body=bad.getvalue())
    # ... and the summary's published data disappears: missing data is a failure, never a pass.
    summary = objects_under(s3, published_locations(aws, "daily_sales")[0])
    for key in summary:
        s3.delete_object(Bucket=PROD_BUCKET, Key=key)
    try:
        run = dags_test(airflow, "revalidate_prod_datasets")
    finally:
        s3.delete_object(Bucket=PROD_BUCKET, Key=bad_key)
        for key, body in summary.items():
            s3.put_object(Bucket=PROD_BUCKET, Key=key, Body=body)
    assert run.state == "failed"
    assert "expect_column_values_to_be_between" in run.log
    messages = alerts()
    assert len(messages) == 2, messages
    bodies = {m["Message"] for m in messages}
    version = ledger.live("process_sales_data", "prod").version
    clean = next(b for b in bodies if "process_sales_data.clean_sales" in b)
    assert f"release {version}" in clean
    assert "expect_column_values_to_be_between on amount" in clean
    summary_alert = next(b for b in bodies if "daily_sales_summary.daily_sales" in b)
    assert "has no data to validate" in summary_alert
    assert "glue_cicd_prod.daily_sales" in summary_alert
    assert all(m["Subject"] == "[glue-cicd] prod data failed revalidation" for m in messages)


def rollback(airflow, **conf):
    return dags_test(airflow, "rollback_glue_job", mark="^approval$", conf=conf)


def test_rollback_restores_the_previous_release_and_a_repeat_changes_nothing(airflow, aws, ledger, released, tmp_path):
    if len({d.version for d in ledger.deployments("process_sales_data", "prod")}) < 2:  # run alone: release again
        jobs_dir = changed_jobs_dir(tmp_path, "second release")
        run = dags_test(airflow, "release__process_sales_data", mark="^(test|approval)$",
                        env={"GLUE_CICD_JOBS_DIR": str(jobs_dir)})  # fmt: skip
        assert run.state == "success", run.log[-3000:]
    deployments = ledger.deployments("process_sales_data", "prod")
    live = deployments[-1]
    target = next(
        d for d in reversed(deployments) if d.version != live.version and d.outcome not in ("failed", "rolled_back")
    )
    run = rollback(airflow, job="process_sales_data", environment="prod")
    assert run.state == "success", run.log[-3000:]
    job = glue_job(aws, "process_sales_data-prod")
    assert normalise(job) == target.definition
    assert job["Command"]["ScriptLocation"] == target.script_location
    assert job["Tags"]["Version"] == target.version
    after = ledger.deployments("process_sales_data", "prod")
    assert after[-1].version == target.version
    assert after[-1].definition == target.definition
    # Data first: consumers read the generation the target release published again.
    key = target.data["clean_sales"].removeprefix(f"s3://{PROD_BUCKET}/")
    manifest = json.loads(aws("s3").get_object(Bucket=PROD_BUCKET, Key=key)["Body"].read())
    assert {generation_of(loc) for loc in published_locations(aws, "clean_sales")} == {manifest["generation"]}

    again = rollback(airflow, job="process_sales_data", environment="prod", version=target.version)
    assert again.state == "success", again.log[-3000:]
    assert "already runs" in again.log
    assert len(ledger.deployments("process_sales_data", "prod")) == len(after)
    assert normalise(aws("glue").get_job(JobName="process_sales_data-prod")["Job"]) == target.definition


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"job": "process_sales_data", "environment": "prod", "version": "0000deadbeef"},
         "version '0000deadbeef' of process_sales_data was never deployed to prod; released versions"),
        ({"job": "daily_sales_summary", "environment": "staging"},
         "daily_sales_summary has no earlier release in staging than"),
    ],
    ids=["unknown version", "nothing earlier"],
)  # fmt: skip
def test_bad_rollback_requests_are_refused_before_anything_changes(airflow, aws, ledger, released, conf, message):
    job = conf["job"]
    before = (glue_job(aws, f"{job}-{conf['environment']}"), len(ledger.deployments(job, conf["environment"])))
    run = rollback(airflow, **conf)
    assert run.state == "failed"
    assert run.tasks["check_request"] == "failed"
    assert message in run.log
    assert (glue_job(aws, f"{job}-{conf['environment']}"), len(ledger.deployments(job, conf["environment"]))) == before


def test_an_unknown_job_is_refused_with_the_known_jobs(airflow):
    run = rollback(airflow, job="no_such_job", environment="prod")
    assert run.state != "success"
    assert "no_such_job" in run.log
    assert "process_sales_data" in run.log
