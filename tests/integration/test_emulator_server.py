"""The emulator as a program: loaded with the project's stack and samples, command line, bad start-up input."""

from __future__ import annotations

import socket
import subprocess
import sys

import yaml

from dev.emulator import TEMPLATE
from glue_cicd.paths import PROJECT_DIR

# The emulator is a package of the project root; it needs nothing of plugins/ or glue_jobs/.
ENV = {"PYTHONPATH": str(PROJECT_DIR), "PATH": "/usr/bin:/bin"}


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Sub, !Ref, ...) as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def template_resources() -> dict[str, dict]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)["Resources"]


def test_bootstrap_creates_every_resource_of_the_template(aws):
    resources = template_resources()
    stack = aws("cloudformation").describe_stack_resources(StackName="glue-cicd")["StackResources"]
    assert {r["LogicalResourceId"]: r["ResourceType"] for r in stack} == {
        name: r["Type"] for name, r in resources.items()
    }
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in stack)
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in stack}

    buckets = {b["Name"] for b in aws("s3").list_buckets()["Buckets"]}
    assert {physical["ArtifactBucket"], physical["StagingDataBucket"], physical["ProdDataBucket"]} <= buckets
    role = aws("iam").get_role(RoleName=physical["GlueServiceRole"])["Role"]
    assert "glue.amazonaws.com" in str(role["AssumeRolePolicyDocument"])
    table = aws("dynamodb").describe_table(TableName=physical["ReleaseLedgerTable"])["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    topics = [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]]
    assert physical["AlertsTopic"] in topics


def test_bootstrap_seeds_each_jobs_sample_inputs(aws):
    for bucket in ("glue-cicd-data-staging-123456789012", "glue-cicd-data-prod-123456789012"):
        objects = aws("s3").list_objects_v2(Bucket=bucket, Prefix="raw/sales/").get("Contents", [])
        assert objects, f"no sample sales in {bucket}"
        assert all(o["Size"] > 0 for o in objects)


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "local_aws", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
        stdin=subprocess.DEVNULL,
    )


def test_unknown_flag_is_refused_with_usage():
    result = run_cli("--prot", "5001")
    assert result.returncode == 2
    assert "unrecognized arguments: --prot" in result.stderr
    assert "usage: python -m local_aws" in result.stderr


def test_bad_values_are_refused():
    assert "--port must be between 0 and 65535" in run_cli("--port", "70000").stderr
    assert "--seconds-per-minute must be positive" in run_cli("--seconds-per-minute", "0").stderr


def test_a_port_in_use_is_a_clear_error_not_a_hang():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--port", str(port), timeout=30)  # no --template: nothing to create
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Address already in use" in result.stderr
