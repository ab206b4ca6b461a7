"""Shared fixtures: the local AWS emulator (a real server over HTTP), boto3 clients for it, and the
Airflow AWS connection and environments config the library uses to reach it."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from dev import LOCAL_ENVIRONMENTS
from dev.emulator import ProjectEmulator
from local_aws.bootstrap import client

# The library, run in this process by the operator tests, uses the emulator's environments config.
os.environ.setdefault("GLUE_CICD_ENVIRONMENTS_FILE", str(LOCAL_ENVIRONMENTS))

REGION = "us-east-1"

ALERTS_TOPIC = "arn:aws:sns:us-east-1:123456789012:glue-cicd-alerts"


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One emulator for the session, on a free port, loaded with the project's stack and samples.

    The library's hooks reach it through ``aws_default``, and read the emulator's environments config.
    """
    log_file = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with ProjectEmulator(log_file=log_file) as process:
        extra = {"endpoint_url": process.endpoint_url, "region_name": REGION}
        connection = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(connection)
        yield process


@pytest.fixture(scope="session")
def aws(emulator):
    """``aws("s3")`` -> a boto3 client for the session's emulator."""

    return lambda service: client(service, emulator.endpoint_url, REGION)


@pytest.fixture(autouse=True, scope="session")
def _no_real_aws():
    """Tests never reach real AWS, whatever credentials the machine holds."""
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)


@pytest.fixture
def alerts(aws):
    """An SQS queue subscribed to the alerts topic; returns a reader of the alert messages."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = aws("sns").subscribe(TopicArn=ALERTS_TOPIC, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]

    def read() -> list[dict]:
        messages = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages"):
            messages += [json.loads(m["Body"]) for m in batch]
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return messages

    yield read
    aws("sns").unsubscribe(SubscriptionArn=subscription)
    sqs.delete_queue(QueueUrl=url)
