"""release_state_machine__ingest_sales under ``airflow dags test`` against the emulator: a first
release runs its staging sample (validate_raw_sales, then process_sales_data on local Spark into a
new, unpublished generation) and goes live whole; a version whose staging sample fails never
reaches prod; a definition naming what the environment lacks, or that AWS's validator refuses,
changes nothing; a canary whose executions fail puts every execution back on the previous
version, with one alert; a live alias changed outside the pipeline is refused."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest

from dev import LOCAL_ENVIRONMENTS
from glue_cicd import deploy
from glue_cicd.build import package_job
from glue_cicd.hooks.artifacts import ArtifactStoreHook
from glue_cicd.hooks.glue_jobs import GlueJobDefinitionHook
from glue_cicd.paths import STATE_MACHINES_DIR
from glue_cicd.spec import load_environments, load_jobs
from support.dag_runs import dags_test

DAG = "release_state_machine__ingest_sales"
TARGET = "states:ingest_sales"
PREFIX = "arn:aws:states:us-east-1:123456789012:stateMachine:"
STAGING_DATA = "glue-cicd-data-staging-123456789012"
PROD_DATA = "glue-cicd-data-prod-123456789012"


def machines_copy(tmp_path: Path, *, replace: tuple[str, str] | None = None, traffic: str = "") -> Path:
    """A copy of state_machines/ whose ingest_sales definition has ``replace`` applied and whose
    spec's traffic block is ``traffic``."""
    target = tmp_path / "state_machines"
    shutil.copytree(STATE_MACHINES_DIR, target)
    folder = target / "ingest_sales"
    if replace:
        text = (folder / "definition.asl.json").read_text()
        assert replace[0] in text
        (folder / "definition.asl.json").write_text(text.replace(*replace))
    if traffic:
        spec = (folder / "state_machine.yaml").read_text()
        (folder / "state_machine.yaml").write_text(spec[: spec.index("traffic:")] + traffic)
    return target


def release(airflow, machines_dir: Path | None = None):
    env = {"GLUE_CICD_STATE_MACHINES_DIR": str(machines_dir)} if machines_dir else {}
    return dags_test(airflow, DAG, mark="^approval$", env=env)


def routing(aws, environment: str = "prod") -> dict[str, int]:
    alias = aws("stepfunctions").describe_state_machine_alias(
        stateMachineAliasArn=f"{PREFIX}ingest_sales-{environment}:live"
    )
    return {r["stateMachineVersionArn"]: r["weight"] for r in alias["routingConfiguration"]}


@pytest.fixture(scope="module")
def callees(airflow, aws):
    """What the state machine calls, in both environments: validate_raw_sales released (its live
    alias) and process_sales_data's Glue job. Jobs this fixture created are deleted afterwards,
    so the Glue release tests that run later on this worker find no job they did not release."""
    lam = aws("lambda")
    try:
        lam.get_alias(FunctionName="validate_raw_sales-staging", Name="live")
    except lam.exceptions.ResourceNotFoundException:
        result = dags_test(airflow, "release_lambda__validate_raw_sales", mark="^approval$")
        assert result.state == "success", result.log[-3000:]
    environments = load_environments(LOCAL_ENVIRONMENTS)
    specs, _ = load_jobs(environments=environments)
    glue = GlueJobDefinitionHook(aws_conn_id="aws_default")
    artifact, _ = ArtifactStoreHook(aws_conn_id="aws_default").publish(
        package_job("process_sales_data"), environments["staging"].artifact_bucket
    )
    created = []
    for env in environments.environments.values():
        name = env.glue_job_name("process_sales_data")
        if glue.live_definition(name) is None:
            glue.apply(name, deploy.render_definition(specs["process_sales_data"], env, artifact), {})
            created.append(name)
    yield
    for name in created:
        aws("glue").delete_job(JobName=name)


@pytest.fixture(scope="module")
def released(airflow, aws, ledger, callees):
    """The checked-out state machine released once."""
    result = release(airflow)
    assert result.state == "success", result.log[-4000:]
    return ledger.live(TARGET, "prod")


def test_a_first_release_runs_its_staging_sample_and_goes_live_whole(aws, ledger, catalog_location, released):
    assert released.outcome == "verified"
    version = released.definition["state_machine_version"]
    assert routing(aws) == {version: 100}
    sfn = aws("stepfunctions")
    [execution] = [
        e
        for e in sfn.list_executions(stateMachineArn=f"{PREFIX}ingest_sales-staging")["executions"]
        if e["name"].startswith("landed_file-")
    ][:1]
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    output = json.loads(described["output"])
    assert output["run"] == "SUCCEEDED"
    assert output["rows"] == 1000
    # The Glue run wrote the generation the execution was given, and no consumer reads it.
    written = aws("s3").list_objects_v2(Bucket=STAGING_DATA, Prefix=f"curated/sales/_gen={output['generation']}/")
    assert any(o["Key"].endswith(".parquet") for o in written.get("Contents", []))
    assert output["generation"] not in catalog_location("glue_cicd_staging", "clean_sales")
    rendered = released.definition["definition"]["States"]["CleanSales"]["Parameters"]["JobName"]
    assert rendered == "process_sales_data-prod"


@pytest.fixture
def catalog_location(aws):
    """(database, table) -> every location the table and its partitions point at ("" if there is no table)."""

    def locations(database: str, table: str) -> str:
        glue = aws("glue")
        try:
            found = glue.get_table(DatabaseName=database, Name=table)["Table"]
        except glue.exceptions.EntityNotFoundException:
            return ""
        partitions = glue.get_partitions(DatabaseName=database, TableName=table)["Partitions"]
        return " ".join(
            [found["StorageDescriptor"]["Location"], *(p["StorageDescriptor"]["Location"] for p in partitions)]
        )

    return locations


def test_a_version_failing_its_staging_sample_never_reaches_prod(airflow, aws, ledger, released, tmp_path):
    staging_before, prod_before = routing(aws, "staging"), routing(aws)
    # Every file is "rejected": the sample execution fails at RejectFile.
    inverted = machines_copy(tmp_path, replace=('"BooleanEquals": true', '"BooleanEquals": false'))
    result = release(airflow, inverted)
    assert result.state == "failed"
    assert result.tasks["samples_staging"] == "failed"
    assert result.tasks["deploy_prod"] == "upstream_failed"
    assert "FAILED: RawFileRejected" in result.log
    assert routing(aws, "staging") == staging_before  # the alias went back
    assert routing(aws) == prod_before
    assert ledger.lock_holder(TARGET, "prod") is None


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (('"${glue_job:process_sales_data}"', '"${glue_job:daily_sales_summary}"'),
         "calls what staging does not have, nothing deployed: Glue job daily_sales_summary-staging "
         "(release daily_sales_summary first)"),
        (('"BooleanEquals": true', '"BooleanEqual": true'), "AWS refuses ingest_sales's definition in staging"),
    ],
    ids=["missing-glue-job", "refused-by-aws-validator"],
)  # fmt: skip
def test_a_definition_staging_cannot_run_changes_nothing(airflow, aws, released, tmp_path, replace, message):
    staging_before = routing(aws, "staging")
    versions_before = len(
        aws("stepfunctions").list_executions(stateMachineArn=f"{PREFIX}ingest_sales-staging")["executions"]
    )
    result = release(airflow, machines_copy(tmp_path, replace=replace))
    assert result.state == "failed"
    assert result.tasks["deploy_staging"] == "failed"
    assert message in result.log
    assert routing(aws, "staging") == staging_before
    executions = aws("stepfunctions").list_executions(stateMachineArn=f"{PREFIX}ingest_sales-staging")["executions"]
    assert len(executions) == versions_before


def test_a_canary_whose_executions_fail_puts_every_execution_back(airflow, aws, ledger, released, tmp_path, alerts):
    alerts()
    # Passes the staging sample, but the new version rejects any prod file before validating it.
    canary = machines_copy(
        tmp_path,
        replace=('"StartAt": "ValidateRawFile",', '"StartAt": "OnlyStaging",'),
        traffic="traffic:\n  steps: [50]\n  bake_minutes: 1\n",
    )
    definition = canary / "ingest_sales" / "definition.asl.json"
    text = json.loads(definition.read_text())
    text["States"]["OnlyStaging"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.bucket", "StringEquals": STAGING_DATA, "Next": "ValidateRawFile"}],
        "Default": "RejectFile",
    }
    definition.write_text(json.dumps(text))
    previous = ledger.live(TARGET, "prod").definition["state_machine_version"]
    stop = threading.Event()
    started = []

    def traffic():
        sfn = aws("stepfunctions")
        # A file prod does not have: the live version fails fast too (in validate_raw_sales), and is not counted.
        execution_input = json.dumps({"bucket": PROD_DATA, "key": "raw/sales/none.csv", "generation": "x"})
        while not stop.is_set():
            arn = sfn.start_execution(stateMachineArn=f"{PREFIX}ingest_sales-prod:live", input=execution_input)
            started.append(arn["executionArn"])
            time.sleep(0.5)

    caller = threading.Thread(target=traffic, daemon=True)
    caller.start()
    try:
        result = release(airflow, canary)
    finally:
        stop.set()
        caller.join(timeout=60)
    assert result.state == "failed"
    assert result.tasks["shift_traffic"] == "failed"
    assert result.tasks["rollback_prod"] == "failed"  # it ran, and says the release failed
    assert "calls to the new version failed" in result.log
    assert routing(aws) == {previous: 100}
    sfn = aws("stepfunctions")
    ran = {sfn.describe_execution(executionArn=arn)["stateMachineVersionArn"] for arn in started}
    assert previous in ran
    assert len(ran) == 2  # the canary took some of them
    assert ledger.live(TARGET, "prod").definition["state_machine_version"] == previous
    [alert] = [a for a in alerts() if "ingest_sales" in a["Subject"]]
    assert f"is back on version {previous.rsplit(':', 1)[1]}" in alert["Message"]


def test_a_live_alias_changed_outside_the_pipeline_is_refused(airflow, aws, ledger, released, tmp_path):
    sfn = aws("stepfunctions")
    arn = f"{PREFIX}ingest_sales-prod"
    expected = ledger.live(TARGET, "prod").definition["state_machine_version"]
    # Someone edits prod by hand: a new version, and the alias on it.
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    definition["Comment"] = f"edited in the console {uuid.uuid4().hex[:6]}"
    other = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(definition), publish=True)[
        "stateMachineVersionArn"
    ]
    sfn.update_state_machine_alias(
        stateMachineAliasArn=f"{arn}:live", routingConfiguration=[{"stateMachineVersionArn": other, "weight": 100}]
    )
    try:
        changed = machines_copy(tmp_path, replace=('"Comment": "Validate', '"Comment": "Now: validate'))
        result = release(airflow, changed)
        assert result.state == "failed"
        assert result.tasks["deploy_prod"] == "failed"
        assert "drifted" in result.log
        assert routing(aws) == {other: 100}  # nothing deployed over it
    finally:
        sfn.update_state_machine_alias(
            stateMachineAliasArn=f"{arn}:live",
            routingConfiguration=[{"stateMachineVersionArn": expected, "weight": 100}],
        )


def test_a_rejected_release_changes_nothing_in_prod(airflow, aws, ledger, released, tmp_path, alerts):
    alerts()
    prod_before = routing(aws)
    deployments = len(ledger.deployments(TARGET, "prod"))
    changed = machines_copy(tmp_path, replace=('"Comment": "Validate', '"Comment": "Rejected: validate'))
    result = dags_test(airflow, DAG, answer=("reviewer", "Reject"), env={"GLUE_CICD_STATE_MACHINES_DIR": str(changed)})
    assert result.state == "failed"
    assert result.tasks["approval"] == "failed"
    assert result.tasks["deploy_prod"] == "upstream_failed"
    assert result.tasks["rollback_prod"] == "failed"  # it says the release failed; nothing to roll back
    assert not [a for a in alerts() if "rolled back" in a["Subject"]]
    assert routing(aws) == prod_before
    assert len(ledger.deployments(TARGET, "prod")) == deployments
    assert ledger.lock_holder(TARGET, "prod") is None
