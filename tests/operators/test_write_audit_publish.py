"""Write-audit-publish on the emulator, stage by stage: a generation is audited, diffed, published
through the catalog and rolled back, and each fault leaves consumers reading the last good data.

The generations are written here with pyarrow (as a run would write them), so each scenario
takes seconds; ``tests/integration`` runs the same stages inside whole releases on Spark.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from glue_cicd.generations import generation_of, generation_uri
from glue_cicd.hooks.catalog import CatalogHook
from glue_cicd.hooks.ledger import LedgerHook
from glue_cicd.operators.base import XCOM_FAILURE
from glue_cicd.operators.data_diff import DataDiffOperator
from glue_cicd.operators.glue_run import glue_run
from glue_cicd.operators.publish import PublishOperator
from glue_cicd.operators.quality import QualityGateOperator
from glue_cicd.operators.retention import CleanupGenerationsOperator
from glue_cicd.operators.rollback import RollbackOperator
from glue_cicd.spec import load_environments
from support.context import context
from support.glue_runs import wait_for_run

JOB, DATASET, DB = "process_sales_data", "clean_sales", "glue_cicd_prod"
# A reviewer's recorded answer, as the approval task returns it.
APPROVED = {"chosen_options": ["Approve"], "responded_by_user": {"id": "reviewer", "name": "reviewer"}}
BUCKET = "glue-cicd-data-prod-123456789012"
BASE = f"s3://{BUCKET}/curated/sales/"
ARTIFACTS = "glue-cicd-artifacts-123456789012"


def sales(days: dict[date, int], *, amount: float = 10.0, offset: int = 0) -> dict[date, pa.Table]:
    """Clean-sales rows per processed_date partition (the partition column is in the folder name)."""
    tables = {}
    for day, count in days.items():
        ids = [f"S{day:%m%d}{i + offset:05d}" for i in range(count)]
        tables[day] = pa.table(
            {
                "sale_id": ids,
                "customer_id": [f"C{i % 7}" for i in range(count)],
                "product_id": [f"P{i % 5}" for i in range(count)],
                "amount": [amount + i % 3 for i in range(count)],
                "status": ["completed"] * count,
                "sold_at": pa.array([datetime(2026, 11, 1, 12, tzinfo=UTC)] * count, pa.timestamp("us", tz="UTC")),
                "sale_date": pa.array([date(2026, 11, 1)] * count, pa.date32()),
            }
        )
    return tables


def write_generation(aws, partitions: dict[date, pa.Table], generation: str | None = None) -> str:
    """A generation as the job writes it; returns its id."""
    generation = generation or f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    s3 = aws("s3")
    for day, table in partitions.items():
        body = io.BytesIO()
        pq.write_table(table, body)
        key = generation_uri(BASE, generation)[len(f"s3://{BUCKET}/") :] + f"processed_date={day}/part-0.parquet"
        s3.put_object(Bucket=BUCKET, Key=key, Body=body.getvalue())
    return generation


def published(catalog) -> dict[str, str]:
    """What consumers read: partition -> generation."""
    if catalog.table(DB, DATASET) is None:
        return {}
    return {k: generation_of(v) for k, v in catalog.partition_locations(DB, DATASET).items()}


def audit(artifact, generation, *, through_catalog=False):
    task = QualityGateOperator(
        task_id="verify_prod" if through_catalog else "audit", job=JOB, environment="prod",
        artifact=artifact, generation=generation, through_catalog=through_catalog,
    )  # fmt: skip
    return task.execute(context())


def diff(artifact, generation):
    return DataDiffOperator(task_id="data_diff", job=JOB, artifact=artifact, generation=generation).execute(context())


def publish(artifact, generation, data_diff=None, ctx=None, operator=PublishOperator):
    """Run the publish task; its DAG run's locks are then released, as the release's teardown does."""
    ctx = ctx or context()
    task = operator(
        task_id="publish", job=JOB, environment="prod", artifact=artifact, generation=generation,
        approval=APPROVED, data_diff=data_diff,
    )  # fmt: skip
    try:
        return task.execute(ctx)
    finally:
        LedgerHook(aws_conn_id="aws_default", table="glue-cicd-release-ledger").release(
            JOB, "prod", f"{ctx['dag'].dag_id}/{ctx['run_id']}"
        )


def release(aws, catalog, artifact, partitions) -> str:
    """Audit, diff and publish a generation of ``partitions``; returns the generation."""
    generation = write_generation(aws, partitions)
    audit(artifact, generation)
    publish(artifact, generation, diff(artifact, generation))
    return generation


def test_an_audited_generation_is_published_and_read_through_the_catalog(aws, catalog, fresh, versions):
    v1 = versions[0]
    generation = write_generation(aws, sales({date(2026, 11, 24): 30, date(2026, 11, 25): 20}))
    assert published(catalog) == {}  # written, audited and diffed: still invisible

    assert audit(v1, generation)[0]["row_count"] == 50
    first = diff(v1, generation)
    assert first[0]["first_release"] is True
    ctx = context()
    result = publish(v1, generation, first, ctx=ctx)

    assert result[0]["outcome"] == "published"
    assert published(catalog) == {"2026-11-24": generation, "2026-11-25": generation}
    table = catalog.table(DB, DATASET)
    assert [k["Name"] for k in table["PartitionKeys"]] == ["processed_date"]
    assert {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}["amount"] == "double"
    assert audit(v1, generation, through_catalog=True)[0]["row_count"] == 50
    assert publish(v1, generation, first, ctx=ctx)[0]["outcome"] == "unchanged"  # a retry changes nothing


def test_a_second_release_diffs_against_what_is_published_and_replaces_only_its_partitions(
    aws, catalog, fresh, versions
):
    v1, v2 = versions
    old = release(aws, catalog, v1, sales({date(2026, 11, 24): 30, date(2026, 11, 25): 20}))
    new = write_generation(aws, sales({date(2026, 11, 25): 20}, amount=11.0))

    result = diff(v2, new)

    assert result[0]["first_release"] is False
    assert "amount" in result[0]["summary"]
    publish(v2, new, result)
    assert published(catalog) == {"2026-11-24": old, "2026-11-25": new}


def test_a_failed_audit_publishes_nothing(aws, catalog, fresh, versions):
    v1 = versions[0]
    good = release(aws, catalog, v1, sales({date(2026, 11, 25): 20}))
    bad = write_generation(aws, sales({date(2026, 11, 25): 20}, amount=-5.0))
    ctx = context()
    task = QualityGateOperator(task_id="audit", job=JOB, environment="prod", artifact=v1, generation=bad)

    with pytest.raises(AirflowFailException, match="audit failed in prod; nothing was published: clean_sales"):
        task.execute(ctx)

    assert "amount" in ctx["ti"].xcom[XCOM_FAILURE]
    assert published(catalog) == {"2026-11-25": good}


def test_duplicate_keys_in_the_candidate_stop_the_release_at_the_diff(aws, catalog, fresh, versions):
    v1 = versions[0]
    good = release(aws, catalog, v1, sales({date(2026, 11, 25): 20}))
    doubled = sales({date(2026, 11, 25): 20})[date(2026, 11, 25)]
    bad = write_generation(aws, {date(2026, 11, 25): pa.concat_tables([doubled, doubled.slice(0, 3)])})

    with pytest.raises(AirflowFailException, match=r"data diff refused the release; nothing was published.*not unique"):
        diff(v1, bad)
    assert published(catalog) == {"2026-11-25": good}


def test_a_table_changed_between_the_diff_and_the_publish_is_refused(aws, catalog, fresh, versions):
    v1, v2 = versions
    release(aws, catalog, v1, sales({date(2026, 11, 25): 20}))
    candidate = write_generation(aws, sales({date(2026, 11, 25): 20}, amount=12.0))
    seen = diff(v2, candidate)
    # Someone else publishes meanwhile.
    theirs = write_generation(aws, sales({date(2026, 11, 25): 20}, amount=13.0))
    publish(v1, theirs, ctx=context())

    with pytest.raises(AirflowFailException, match="changed since the release"):
        publish(v2, candidate, seen)
    assert published(catalog) == {"2026-11-25": theirs}


class _FailingSecondBatch:
    """AWS failing midway: the second BatchUpdatePartition call of a publish is throttled."""

    def __init__(self, client):
        self._client = client
        self.calls = 0

    def batch_update_partition(self, **kwargs):
        from botocore.exceptions import ClientError

        self.calls += 1
        if self.calls == 2:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "BatchUpdatePartition"
            )
        return self._client.batch_update_partition(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


class _PublishWithFaultyCatalog(PublishOperator):
    @staticmethod
    def catalog(env):
        hook = CatalogHook(aws_conn_id=env.aws_conn_id, region_name=env.region)
        hook.__dict__["conn"] = _FailingSecondBatch(hook.get_conn())
        return hook


def test_a_publish_failing_midway_through_partitions_restores_every_partition(aws, catalog, fresh, versions):
    v1, v2 = versions
    days = {date.fromordinal(date(2026, 11, 1).toordinal() + i): 2 for i in range(150)}
    old = release(aws, catalog, v1, sales(days))
    new = write_generation(aws, sales(days, amount=20.0))

    with pytest.raises(AirflowFailException, match="ThrottlingException.*restored to its state before the publish"):
        publish(v2, new, operator=_PublishWithFaultyCatalog)

    assert set(published(catalog).values()) == {old}
    assert len(published(catalog)) == 150
    # The same task retried (AWS healthy again) resumes from its manifest and completes.
    publish(v2, new)
    assert set(published(catalog).values()) == {new}


def test_a_failed_post_publish_check_rolls_the_data_back_first(aws, catalog, ledger, fresh, versions):
    v1, v2 = versions
    good = release(aws, catalog, v1, sales({date(2026, 11, 24): 10, date(2026, 11, 25): 20}))
    bad = write_generation(aws, sales({date(2026, 11, 25): 20}, amount=30.0))
    ctx = context()
    publish(v2, bad, diff(v2, bad), ctx=ctx)
    assert published(catalog) == {"2026-11-24": good, "2026-11-25": bad}
    # The published files disappear (a lifecycle rule, a bad hand): consumers read nothing there.
    s3 = aws("s3")
    prefix = generation_uri(BASE, bad)[len(f"s3://{BUCKET}/") :]
    for obj in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]:
        s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
    with pytest.raises(AirflowFailException, match="post-publish check failed"):
        QualityGateOperator(
            task_id="verify_prod", job=JOB, environment="prod", artifact=v2, generation=bad, through_catalog=True
        ).execute(ctx)

    rollback = RollbackOperator(
        task_id="rollback_prod", job=JOB, environment="prod", artifact=v2, generation=bad,
        failed_tasks=["publish", "verify_prod"],
    )  # fmt: skip
    with pytest.raises(AirflowFailException, match=r"release of process_sales_data .* failed.*data: glue_cicd_prod"):
        rollback.execute(ctx)

    assert published(catalog) == {"2026-11-24": good, "2026-11-25": good}
    assert ledger.live(JOB, "prod").version == v1["version"]
    with pytest.raises(AirflowFailException, match="release of process_sales_data"):  # a retry changes nothing
        rollback.execute(ctx)
    assert published(catalog) == {"2026-11-24": good, "2026-11-25": good}


def test_a_requested_rollback_restores_the_release_data_and_code(aws, catalog, ledger, fresh, versions):
    v1, v2 = versions
    first = release(aws, catalog, v1, sales({date(2026, 11, 25): 20}))
    second = release(aws, catalog, v2, sales({date(2026, 11, 25): 20, date(2026, 11, 26): 5}, amount=11.0))
    assert published(catalog) == {"2026-11-25": second, "2026-11-26": second}

    outcome = RollbackOperator(
        task_id="rollback", job=JOB, environment="prod", version=v1["version"], approval=APPROVED
    ).execute(context(user="bob"))

    assert outcome["restored"] == v1["version"]
    assert published(catalog) == {"2026-11-25": first}  # the partition only v2 wrote is unpublished
    assert ledger.live(JOB, "prod").version == v1["version"]


def test_a_diff_over_the_datasets_threshold_stops_the_release(aws, catalog, fresh, versions):
    v1 = versions[0]
    good = release(aws, catalog, v1, sales({date(2026, 11, 25): 20}))
    half = sales({date(2026, 11, 25): 20})[date(2026, 11, 25)].slice(0, 10)
    candidate = write_generation(aws, {date(2026, 11, 25): half})

    with pytest.raises(
        AirflowFailException, match=r"50.00% of the published rows are removed .* above the allowed 20.00%"
    ):
        diff(v1, candidate)  # job.yaml: diff.max_removed_share 0.2
    assert published(catalog) == {"2026-11-25": good}


def test_a_key_column_missing_from_the_data_is_named(aws, catalog, fresh, versions):
    v1 = versions[0]
    release(aws, catalog, v1, sales({date(2026, 11, 25): 20}))
    table = sales({date(2026, 11, 25): 20})[date(2026, 11, 25)].drop_columns(["sale_id"])
    candidate = write_generation(aws, {date(2026, 11, 25): table})

    with pytest.raises(AirflowFailException, match="sale_id") as caught:
        diff(v1, candidate)
    assert "candidate" in str(caught.value)


def test_cleanup_deletes_only_generations_nobody_may_need(aws, catalog, fresh, versions):
    v1 = versions[0]
    current = release(aws, catalog, v1, sales({date(2026, 11, 25): 20}))
    expired = write_generation(aws, sales({date(2026, 11, 24): 5}), generation="20250101T000000-0a0a0a")
    old_but_published = write_generation(aws, sales({date(2026, 11, 20): 5}), generation="20250102T000000-0b0b0b")
    publish(v1, old_but_published)  # an old generation consumers still read stays

    deleted = CleanupGenerationsOperator(task_id="cleanup_generations", job=JOB).execute(context())

    assert deleted["prod"] == [generation_uri(BASE, expired)]
    s3 = aws("s3")
    remaining = s3.list_objects_v2(Bucket=BUCKET, Prefix="curated/sales/_gen=", Delimiter="/")["CommonPrefixes"]
    kept = {generation_of(f"s3://{BUCKET}/{p['Prefix']}") for p in remaining}
    assert {current, old_but_published} <= kept
    assert expired not in kept


def test_a_catalog_database_that_does_not_exist_is_named_with_the_field_to_fix(catalog):
    from glue_cicd.publish import PublishError

    with pytest.raises(PublishError, match="Glue database 'no_such_db' does not exist.*catalog_database"):
        catalog.table("no_such_db", DATASET)
    assert catalog.table(DB, "no_such_table") is None


def test_after_a_release_that_published_nothing_the_rollback_skips(aws, catalog, fresh, versions):
    v1, v2 = versions
    good = release(aws, catalog, v1, sales({date(2026, 11, 25): 20}))
    unpublished = write_generation(aws, sales({date(2026, 11, 25): 20}, amount=-1.0))  # its audit failed
    rollback = RollbackOperator(
        task_id="rollback_prod", job=JOB, environment="prod", artifact=v2, generation=unpublished,
        failed_tasks=["publish", "verify_prod"],
    )  # fmt: skip
    with pytest.raises(AirflowSkipException, match="published nothing and deployed nothing to prod"):
        rollback.execute(context())
    assert published(catalog) == {"2026-11-25": good}


def python_shell_job(aws, prefix: str, script: bytes) -> str:
    """A Glue Python shell job running ``script``; returns its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    aws("s3").put_object(Bucket=ARTIFACTS, Key=f"tests/{name}.py", Body=script)
    aws("glue").create_job(
        Name=name, Role="arn:aws:iam::123456789012:role/glue-cicd-glue-shadow-role",
        Command={"Name": "pythonshell", "ScriptLocation": f"s3://{ARTIFACTS}/tests/{name}.py"},
    )  # fmt: skip
    return name


def test_the_output_of_a_stopped_run_is_never_audited_or_published(aws, catalog, fresh, versions):
    """A run STOPPED (or TIMEOUT) midway may leave a partial generation that passes its suite."""
    v1 = versions[0]
    good = release(aws, catalog, v1, sales({date(2026, 11, 25): 20}))
    partial = write_generation(aws, sales({date(2026, 11, 25): 5}))
    glue, name = aws("glue"), python_shell_job(aws, "stopped", b"import time\ntime.sleep(60)\n")
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id])
    wait_for_run(glue, name, run_id, timeout=60)
    audit = QualityGateOperator(
        task_id="audit", job=JOB, environment="prod", artifact=v1, generation=partial, glue_job=name, run_id=run_id
    )

    with pytest.raises(AirflowFailException, match=f"nothing was published: run {run_id} of {name} ended STOPPED"):
        audit.execute(context())
    assert published(catalog) == {"2026-11-25": good}


def test_a_glue_run_never_writes_into_a_generation_that_already_holds_data(aws, catalog, fresh, versions):
    """A run task cleared on its own reuses its deploy task's generation, which may be published."""
    good = release(aws, catalog, versions[0], sales({date(2026, 11, 25): 20}))
    glue, name = aws("glue"), python_shell_job(aws, "guarded", b"print('ran')\n")
    prod = load_environments()["prod"]
    rerun = glue_run("shadow_run", prod, name, {"--output_path": generation_uri(BASE, good)})

    with pytest.raises(
        AirflowFailException, match=rf"--output_path .*_gen={good}/ already holds data.*nothing was run"
    ):
        rerun.execute(context())

    assert glue.get_job_runs(JobName=name)["JobRuns"] == []
    assert published(catalog) == {"2026-11-25": good}
    fresh_generation = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    glue_run(
        "shadow_run", prod, name, {"--output_path": generation_uri(BASE, fresh_generation)}
    ).refuse_written_generations()
