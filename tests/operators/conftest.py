"""Operator fixtures: prod's catalog, ledger and job as each scenario found them, and two built versions."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from glue_cicd.build import package_job
from glue_cicd.hooks.artifacts import ArtifactStoreHook
from glue_cicd.hooks.catalog import CatalogHook
from glue_cicd.hooks.glue_jobs import GlueJobDefinitionHook
from glue_cicd.hooks.ledger import LedgerHook
from glue_cicd.publish import PARTITION_INPUT_KEYS, as_table_input, chunks
from support.dag_runs import changed_jobs_dir

JOB, DATASET, DB = "process_sales_data", "clean_sales", "glue_cicd_prod"
ARTIFACTS = "glue-cicd-artifacts-123456789012"


@pytest.fixture
def catalog(emulator):
    return CatalogHook(aws_conn_id="aws_default")


@pytest.fixture
def ledger(emulator):
    return LedgerHook(aws_conn_id="aws_default", table="glue-cicd-release-ledger")


@pytest.fixture
def fresh(aws, catalog, ledger):
    """No ``clean_sales`` table in prod's catalog and no lock: each scenario publishes from scratch.
    What prod consumers read, the job's ledger history and prod's job definition are put back
    afterwards, so the release DAGs that run later in the session see none of this file's releases."""
    for env in ("staging", "prod"):
        holder = ledger.lock_holder(JOB, env)
        if holder:
            ledger.release(JOB, env, holder["owner"])
    with saved_ledger(aws), saved_prod_job(aws), saved_table(aws("glue"), catalog):
        yield


@contextmanager
def saved_ledger(aws):
    """Put the job's ledger items back as they were: items added are deleted, items changed restored."""
    dynamodb, table = aws("dynamodb"), "glue-cicd-release-ledger"

    def items() -> dict[str, dict]:
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"JOB#{JOB}"}}, ConsistentRead=True,
        )  # fmt: skip
        return {i["sk"]["S"]: i for page in pages for i in page["Items"]}

    before = items()
    yield
    for sk, item in items().items():
        if sk not in before:
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
        elif item != before[sk]:
            dynamodb.put_item(TableName=table, Item=before[sk])
    for sk in before.keys() - items().keys():
        dynamodb.put_item(TableName=table, Item=before[sk])


@contextmanager
def saved_prod_job(aws):
    """Put prod's Glue job definition and tags back as they were (a rollback here replaces them)."""
    hook, name = GlueJobDefinitionHook(aws_conn_id="aws_default"), f"{JOB}-prod"
    definition = hook.live_definition(name)
    tags = aws("glue").get_tags(ResourceArn=hook.job_arn(name))["Tags"] if definition else {}
    yield
    if definition is None:
        if hook.live_definition(name) is not None:
            aws("glue").delete_job(JobName=name)
    else:
        hook.apply(name, definition, tags)


@contextmanager
def saved_table(glue, catalog):
    """Delete prod's ``clean_sales`` table for the scenario; put it back, with its partitions, after."""
    saved = catalog.table(DB, DATASET)
    partitions = []
    if saved is not None:
        for page in glue.get_paginator("get_partitions").paginate(DatabaseName=DB, TableName=DATASET):
            partitions += [{k: p[k] for k in PARTITION_INPUT_KEYS if k in p} for p in page["Partitions"]]
        glue.delete_table(DatabaseName=DB, Name=DATASET)
    yield
    if catalog.table(DB, DATASET) is not None:
        glue.delete_table(DatabaseName=DB, Name=DATASET)
    if saved is not None:
        glue.create_table(DatabaseName=DB, TableInput=as_table_input(saved))
        for chunk in chunks(partitions, 100):
            glue.batch_create_partition(DatabaseName=DB, TableName=DATASET, PartitionInputList=chunk)


@pytest.fixture(scope="module")
def versions(emulator, tmp_path_factory) -> list[dict]:
    """Two published artifacts of the job (two versions)."""
    store = ArtifactStoreHook(aws_conn_id="aws_default")
    built = []
    for marker in ("first", "second"):
        jobs_dir = changed_jobs_dir(tmp_path_factory.mktemp(marker), f"wap test {marker}")
        artifact, _ = store.publish(package_job(JOB, jobs_dir), ARTIFACTS)
        built.append(artifact.to_dict())
    return built
