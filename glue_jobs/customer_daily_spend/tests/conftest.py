"""One local SparkSession and GlueContext for the whole test session; moto over HTTP for S3 and the catalog."""

import socket

import pytest

from glue_runtime import local_spark_session


@pytest.fixture(scope="session")
def spark():
    session = local_spark_session("customer-daily-spend-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def glue_context(spark):
    from awsglue.context import GlueContext

    return GlueContext(spark.sparkContext)


@pytest.fixture(scope="module")
def moto_endpoint():
    moto_server = pytest.importorskip(
        "moto.server",
        reason="moto is not installed (it is in requirements-dev.txt, not requirements.txt): "
        "no S3 and Glue Data Catalog emulator for the tests that need them",
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch, moto_endpoint):
    """Credentials and endpoint as the emulator gives them to a job's own boto3 calls."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("LOCALGLUE_BOOKMARK_FILE", raising=False)
    for name, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
