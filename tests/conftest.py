"""Shared fixtures: the local AWS emulator (a real server over HTTP) and boto3 clients for it."""

from __future__ import annotations

import os

import boto3
import pytest

from glue_cicd.local_aws.process import EmulatorProcess

REGION = "us-east-1"


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One bootstrapped emulator for the session, on a free port."""
    log_file = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with EmulatorProcess(log_file=log_file) as process:
        yield process


@pytest.fixture(scope="session")
def aws(emulator):
    """``aws("s3")`` -> a boto3 client for the session's emulator."""

    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=emulator.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture(autouse=True, scope="session")
def _no_real_aws():
    """Tests never reach real AWS, whatever credentials the machine holds."""
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
