"""The emulator's Step Functions: executions really run their Lambda and Glue (``.sync``) tasks on
the local executors, an alias's weighted routing picks the version each execution runs, and
``ValidateStateMachineDefinition`` answers as AWS does; over HTTP with boto3 (no mocks)."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile

import pytest

ROLE = "arn:aws:iam::123456789012:role/glue-cicd-glue-service-role"
BUCKET = "glue-cicd-artifacts-123456789012"
HANDLER = """
def handle(event, context):
    if event.get("reject"):
        raise ValueError("rejected: " + event["reject"])
    return {"checked": event["file"], "by": context.function_name}
"""
SCRIPT = """
import sys
from awsglue.utils import getResolvedOptions
args = getResolvedOptions(sys.argv, ["file"])
if args["file"] == "broken.csv":
    raise ValueError("cannot parse broken.csv")
print("processed", args["file"])
"""


def wait(sfn, execution_arn: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} still running after {timeout}s"
        time.sleep(0.2)
    return described


@pytest.fixture(scope="module")
def resources(aws):
    """A Lambda function and a Python-shell Glue job the state machines call."""
    suffix = uuid.uuid4().hex[:8]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    function = aws("lambda").create_function(
        FunctionName=f"check-{suffix}", Runtime="python3.11", Role=ROLE, Handler="app.handle",
        Code={"ZipFile": buffer.getvalue()}, Timeout=10,
    )["FunctionArn"]  # fmt: skip
    key = f"test-scripts/{suffix}.py"
    aws("s3").put_object(Bucket=BUCKET, Key=key, Body=SCRIPT.encode())
    job = f"process-{suffix}"
    aws("glue").create_job(
        Name=job, Role=ROLE, GlueVersion="5.0",
        Command={"Name": "pythonshell", "ScriptLocation": f"s3://{BUCKET}/{key}", "PythonVersion": "3.9"},
    )  # fmt: skip
    return {"function": function, "job": job}


def definition(resources) -> str:
    return json.dumps({
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": resources["function"], "Payload.$": "$"},
                "ResultSelector": {"checked.$": "$.Payload.checked"}, "ResultPath": "$.check", "Next": "Process",
            },
            "Process": {
                "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": resources["job"], "Arguments": {"--file.$": "$.file"}},
                "ResultSelector": {"state.$": "$.JobRunState"}, "ResultPath": "$.run", "Next": "Done",
            },
            "Done": {"Type": "Pass", "Parameters": {"result": "processed", "run.$": "$.run.state"}, "End": True},
        },
    })  # fmt: skip


def machine(aws, resources) -> dict:
    return aws("stepfunctions").create_state_machine(
        name=f"ingest-{uuid.uuid4().hex[:8]}", definition=definition(resources), roleArn=ROLE
    )


def test_an_execution_runs_its_lambda_and_glue_tasks(aws, resources):
    sfn = aws("stepfunctions")
    created = machine(aws, resources)
    started = sfn.start_execution(stateMachineArn=created["stateMachineArn"], input=json.dumps({"file": "a.csv"}))
    described = wait(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    assert json.loads(described["output"]) == {"result": "processed", "run": "SUCCEEDED"}
    runs = aws("glue").get_job_runs(JobName=resources["job"])["JobRuns"]
    assert any(r["Arguments"].get("--file") == "a.csv" and r["JobRunState"] == "SUCCEEDED" for r in runs)
    listed = sfn.list_executions(stateMachineArn=created["stateMachineArn"])["executions"]
    assert [e["executionArn"] for e in listed] == [started["executionArn"]]


@pytest.mark.parametrize(
    ("execution_input", "error", "cause"),
    [({"file": "a.csv", "reject": "no header"}, "ValueError", "rejected: no header"),
     ({"file": "broken.csv"}, "States.TaskFailed", "cannot parse broken.csv")],
    ids=["handler-raises", "glue-run-fails"],
)  # fmt: skip
def test_a_failing_task_fails_the_execution_with_its_error(aws, resources, execution_input, error, cause):
    sfn = aws("stepfunctions")
    created = machine(aws, resources)
    started = sfn.start_execution(stateMachineArn=created["stateMachineArn"], input=json.dumps(execution_input))
    described = wait(sfn, started["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == error
    assert cause in described["cause"]


def passing(result: str) -> str:
    return json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"result": result}, "End": True}}}
    )


def test_an_alias_routes_executions_to_its_versions_by_weight(aws):
    sfn = aws("stepfunctions")
    created = sfn.create_state_machine(
        name=f"routed-{uuid.uuid4().hex[:8]}", definition=passing("one"), roleArn=ROLE, publish=True
    )
    first = created["stateMachineVersionArn"]
    second = sfn.update_state_machine(
        stateMachineArn=created["stateMachineArn"], definition=passing("two"), publish=True
    )["stateMachineVersionArn"]
    alias = sfn.create_state_machine_alias(
        name="live",
        routingConfiguration=[{"stateMachineVersionArn": first, "weight": 50},
                              {"stateMachineVersionArn": second, "weight": 50}],
    )["stateMachineAliasArn"]  # fmt: skip
    executions = [sfn.start_execution(stateMachineArn=alias, input="{}")["executionArn"] for i in range(16)]
    described = [wait(sfn, arn) for arn in executions]
    assert [(d["status"], d.get("stateMachineAliasArn")) for d in described] == [("SUCCEEDED", alias)] * 16
    by_version = {v: [d for d in described if d["stateMachineVersionArn"] == v] for v in (first, second)}
    # 16 draws at 50%: both versions get some (p = 1 - 2^-15)
    assert by_version[first]
    assert by_version[second]
    assert {json.loads(d["output"])["result"] for d in by_version[second]} == {"two"}
    listed = sfn.list_executions(stateMachineArn=second)["executions"]
    assert {e["executionArn"] for e in listed} == {d["executionArn"] for d in by_version[second]}

    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias, routingConfiguration=[{"stateMachineVersionArn": first, "weight": 100}]
    )
    again = wait(sfn, sfn.start_execution(stateMachineArn=alias, input="{}")["executionArn"])
    assert again["stateMachineVersionArn"] == first


def test_validate_state_machine_definition(aws, resources):
    sfn = aws("stepfunctions")
    assert sfn.validate_state_machine_definition(definition=definition(resources))["result"] == "OK"
    broken = json.loads(definition(resources))
    broken["States"]["Done"]["Type"] = "Passs"
    answer = sfn.validate_state_machine_definition(definition=json.dumps(broken))
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"][0]["severity"] == "ERROR"
    assert sfn.validate_state_machine_definition(definition="{not json")["result"] == "FAIL"


def test_a_definite_path_through_an_index_selects_one_value(aws):
    sfn = aws("stepfunctions")
    parameters = {"rows.$": "$.files[0].rows", "first.$": "$.files[0]", "all.$": "$.files[*].rows"}
    definition = {"StartAt": "Pick", "States": {"Pick": {"Type": "Pass", "Parameters": parameters, "End": True}}}
    created = sfn.create_state_machine(
        name=f"paths-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )
    execution_input = {"files": [{"rows": 1000}, {"rows": 7}]}
    started = sfn.start_execution(stateMachineArn=created["stateMachineArn"], input=json.dumps(execution_input))
    described = wait(sfn, started["executionArn"])
    assert json.loads(described["output"]) == {"rows": 1000, "first": {"rows": 1000}, "all": [1000, 7]}
