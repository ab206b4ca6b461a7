"""The emulator's Lambda: handlers really run, errors and timeouts as AWS reports them, versions and
weighted aliases honoured, logs and metrics recorded; over HTTP with boto3 (no mocks)."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

HANDLER = """
import json, os, time
import boto3

VERSION = "{version}"

def handle(event, context):
    if event.get("raise"):
        raise ValueError("bad event: " + event["raise"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("import"):
        __import__(event["import"])
    if event.get("s3"):
        boto3.client("s3").put_object(Bucket=event["s3"], Key="from-lambda", Body=b"hi")
    print("handled", json.dumps(event))
    return {{"version": VERSION, "stage": os.environ["STAGE"], "function": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis(), "arn": context.invoked_function_arn}}
"""


def package(version: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER.format(version=version))
    return buffer.getvalue()


@pytest.fixture
def function(aws):
    """A function with versions 1 ("one") and 2 ("two") and an alias ``live`` on 1."""
    iam, lam = aws("iam"), aws("lambda")
    name = f"fn-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}))["Role"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role["Arn"],
        Handler="app.handle",
        Code={"ZipFile": package("one")},
        Timeout=3,
        Environment={"Variables": {"STAGE": "test"}},
    )
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=package("two"))
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    yield name
    lam.delete_function(FunctionName=name)
    iam.delete_role(RoleName=name)


def call(lam, name: str, event: dict, qualifier: str | None = None) -> tuple[dict, dict]:
    response = lam.invoke(
        FunctionName=name,
        Payload=json.dumps(event).encode(),
        LogType="Tail",
        **({"Qualifier": qualifier} if qualifier else {}),
    )
    return json.loads(response["Payload"].read()), response


def test_the_handler_runs_with_its_environment_context_and_the_emulators_s3(aws, function):
    lam, s3 = aws("lambda"), aws("s3")
    bucket = f"lambda-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    payload, response = call(lam, function, {"s3": bucket}, "live")
    assert "FunctionError" not in response
    assert payload["version"] == "one"
    assert payload["stage"] == "test"
    assert payload["function"] == function
    assert payload["arn"].endswith(f":function:{function}:live")
    assert 0 < payload["remaining_ms"] <= 3000
    assert response["ExecutedVersion"] == "1"
    assert s3.get_object(Bucket=bucket, Key="from-lambda")["Body"].read() == b"hi"
    log = base64.b64decode(response["LogResult"]).decode()
    assert "handled" in log
    assert "REPORT RequestId" in log
    assert call(lam, function, {}, "2")[0]["version"] == "two"
    assert call(lam, function, {})[0]["version"] == "two"  # $LATEST


def test_errors_timeouts_and_missing_libraries_are_reported_as_aws_reports_them(aws, function):
    lam = aws("lambda")
    payload, response = call(lam, function, {"raise": "no id"}, "live")
    assert response["FunctionError"] == "Unhandled"
    assert response["StatusCode"] == 200
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "bad event: no id"
    assert payload["stackTrace"]
    payload, response = call(lam, function, {"sleep": 10}, "live")
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 3.00 seconds" in payload["errorMessage"]
    # The runtime has boto3, not this project's libraries: a package without pandas cannot import it.
    payload, response = call(lam, function, {"import": "pandas"}, "live")
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ModuleNotFoundError"


def test_a_weighted_alias_routes_calls_to_both_versions_and_metrics_name_the_version_that_ran(aws, function):
    lam, cloudwatch = aws("lambda"), aws("cloudwatch")
    lam.update_alias(
        FunctionName=function, Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}
    )
    started = datetime.now(UTC) - timedelta(minutes=1)
    ran = [call(lam, function, {"raise": "x"} if n % 2 else {}, "live")[1]["ExecutedVersion"] for n in range(30)]
    assert set(ran) == {"1", "2"}

    def total(metric: str, version: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            StartTime=started,
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=60,
            Statistics=["Sum"],
            Dimensions=[
                {"Name": "FunctionName", "Value": function},
                {"Name": "Resource", "Value": f"{function}:live"},
                {"Name": "ExecutedVersion", "Value": version},
            ],
        )["Datapoints"]
        return sum(p["Sum"] for p in points)

    assert total("Invocations", "1") + total("Invocations", "2") == 30
    assert total("Invocations", "2") == ran.count("2")
    assert total("Errors", "1") + total("Errors", "2") == 15
    lam.update_alias(
        FunctionName=function, Name="live", FunctionVersion="2", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert {call(lam, function, {}, "live")[1]["ExecutedVersion"] for _ in range(5)} == {"2"}
