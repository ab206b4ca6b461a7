"""The run summary's S3 write and the whole job, against a real S3 emulator (moto over HTTP).

moto is a development tool (requirements-dev.txt), not in the Airflow image the release's test
stage runs these tests in: there the tests that need S3 are skipped, the others still run.
"""

import json
import socket

import boto3
import pytest
from py4j.protocol import Py4JJavaError

from process_sales_data import job
from process_sales_data.tests.sample_data import sample_files
from process_sales_data.transforms import REJECTION_REASONS, write_run_summary

BUCKET = "sales-data"


@pytest.fixture(scope="module")
def s3_endpoint():
    moto_server = pytest.importorskip(
        "moto.server",
        reason="moto is not installed (it is in requirements-dev.txt, not requirements.txt): "
        "no S3 emulator for the tests that write to S3",
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch, s3_endpoint):
    """Credentials and endpoint as the emulator gives them to a job's own boto3 calls."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3(aws_env):
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def read_json(s3, key):
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_run_summary_lands_in_s3_as_json(s3):
    summary = {"rows_in": 3, "rows_out": 2, "release_version": "1.0.0"}

    uri = write_run_summary(s3, summary, f"s3://{BUCKET}/run-summaries/process_sales_data/", "jr_abc")

    assert uri == f"s3://{BUCKET}/run-summaries/process_sales_data/jr_abc.json"
    assert read_json(s3, "run-summaries/process_sales_data/jr_abc.json") == summary
    head = s3.head_object(Bucket=BUCKET, Key="run-summaries/process_sales_data/jr_abc.json")
    assert head["ContentType"] == "application/json"


@pytest.mark.parametrize("path", ["/tmp/summaries/", "s3://", "bucket/prefix/"])
def test_run_summary_needs_an_s3_uri(path):
    with pytest.raises(ValueError, match="--summary_path must be an s3://bucket/prefix/ URI"):
        write_run_summary(None, {}, path, "jr_abc")


def test_job_cleans_the_sample_data_and_reports_the_run(spark, s3, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, data in sample_files("raw_sales").items():
        (raw / name).write_bytes(data)
    output = tmp_path / "clean"
    argv = [
        "job.py",
        "--JOB_NAME",
        "process_sales_data-staging",
        "--JOB_RUN_ID",
        "jr_1",
        "--input_path",
        str(raw),
        "--output_path",
        str(output),
        "--summary_path",
        f"s3://{BUCKET}/summaries/",
        "--release_version",
        "0.1.0",
    ]

    job.main(argv)

    summary = read_json(s3, "summaries/jr_1.json")
    written = spark.read.parquet(str(output))
    assert summary["rows_in"] == 2000
    assert summary["rows_out"] == written.count() > 0
    assert set(summary["rejected_by_reason"]) == set(REJECTION_REASONS)
    assert (summary["release_version"], summary["job_name"]) == ("0.1.0", "process_sales_data-staging")
    assert [p.name for p in output.iterdir() if p.is_dir()] == [f"processed_date={summary['processed_date']}"]


def test_job_writes_the_summary_to_a_folder_when_given_one(spark, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "part.csv").write_bytes(sample_files("raw_sales")["part-0001.csv"])
    argv = [
        "job.py",
        "--JOB_NAME",
        "local",
        "--JOB_RUN_ID",
        "jr_2",
        "--input_path",
        str(raw),
        "--output_path",
        str(tmp_path / "clean"),
        "--summary_path",
        str(tmp_path / "summaries"),
        "--release_version",
        "dev",
    ]

    job.main(argv)

    summary = json.loads((tmp_path / "summaries" / "jr_2.json").read_text())
    assert summary["rows_in"] == 1000
    assert summary["rows_out"] + summary["rows_rejected"] == 1000


def test_unknown_sample_dataset_is_named():
    with pytest.raises(KeyError, match="no sample data for dataset 'clean_sales'; known: raw_sales"):
        sample_files("clean_sales")


def test_sample_files_are_deterministic_and_split_in_two():
    files = sample_files("raw_sales")

    assert files == sample_files("raw_sales")
    assert list(files) == ["part-0001.csv", "part-0002.csv"]
    assert all(data.startswith(b"sale_id,customer_id,product_id,amount,status,sold_at\n") for data in files.values())


def test_job_fails_on_a_file_whose_header_does_not_match(spark, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "part.csv").write_text("sale_id,customer_id,product_id,status,amount,sold_at\nS1,C1,P1,completed,10.0,\n")
    argv = [
        "job.py",
        "--JOB_NAME",
        "local",
        "--JOB_RUN_ID",
        "jr_3",
        "--input_path",
        str(raw),
        "--output_path",
        str(tmp_path / "clean"),
        "--summary_path",
        str(tmp_path / "summaries"),
        "--release_version",
        "dev",
    ]

    with pytest.raises(Py4JJavaError, match="CSV header does not conform to the schema"):
        job.main(argv)
    assert not (tmp_path / "summaries").exists()
