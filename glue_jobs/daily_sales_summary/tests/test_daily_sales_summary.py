"""The daily summary on hand-built and on freshly cleaned sample data, on real local Spark.

The job test reads its input through a Glue Data Catalog served by moto over HTTP. moto is a
development tool (requirements-dev.txt), not in the Airflow image the release's test stage runs
these tests in: there that test is skipped, the others still run.
"""

import socket
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest
from pyspark.sql import functions as F

from daily_sales_summary import job
from daily_sales_summary.transforms import get_output_schema, summarise
from process_sales_data.tests.sample_data import generate_rows
from process_sales_data.transforms import RAW_SCHEMA, transform_data, write_clean_sales
from process_sales_data.transforms import get_output_schema as clean_schema

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)
PROCESSED = date(2026, 11, 24)
LATER = PROCESSED + timedelta(days=1)
BUCKET = "sales-data"


def clean_rows(*sales):
    """Clean-sales rows from (sale_id, amount, status, sale_date)."""
    return [
        (sale_id, "C1", "P1", amount, status, datetime(d.year, d.month, d.day, 12, tzinfo=UTC), d, PROCESSED)
        for sale_id, amount, status, d in sales
    ]


@pytest.fixture(scope="module")
def clean_df(spark):
    return spark.createDataFrame(
        clean_rows(
            ("S1", 10.00, "completed", D1),
            ("S2", 20.01, "completed", D1),
            ("S3", 0.10, "completed", D1),
            ("S4", 5.55, "refunded", D1),
            ("S5", 99.99, "completed", D2),
        ),
        clean_schema(),
    )


def test_summary_counts_sums_and_averages_per_day_and_status(clean_df):
    rows = [tuple(r) for r in summarise(clean_df).collect()]

    assert rows == [
        (D1, "completed", 3, 30.11, 10.04, 0.10, 20.01),
        (D1, "refunded", 1, 5.55, 5.55, 5.55, 5.55),
        (D2, "completed", 1, 99.99, 99.99, 99.99, 99.99),
    ]


def test_output_schema_is_what_summarise_returns(clean_df):
    assert summarise(clean_df).schema == get_output_schema()


def test_totals_match_the_clean_data_they_summarise(spark):
    clean = transform_data(spark.createDataFrame(generate_rows(3000, seed=5), RAW_SCHEMA), PROCESSED).cache()
    amounts = [r.amount for r in clean.select("amount").collect()]

    daily = summarise(clean).collect()

    assert sum(r.order_count for r in daily) == len(amounts)
    assert sum(r.total_amount for r in daily) == pytest.approx(sum(amounts), abs=0.01)
    assert all(r.min_amount <= r.avg_amount <= r.max_amount <= r.total_amount for r in daily)
    assert len({(r.sale_date, r.status) for r in daily}) == len(daily)


def test_job_summarises_the_published_clean_sales_table_into_one_file(spark, clean_df, aws_env, tmp_path):
    """The job reads --input_table through the catalog: each partition at its own generation."""
    s3, glue = boto3.client("s3"), boto3.client("glue")
    s3.create_bucket(Bucket=BUCKET)
    two_days = clean_df.withColumn(
        "processed_date", F.when(F.col("sale_id") <= "S3", F.lit(PROCESSED)).otherwise(F.lit(LATER))
    )
    write_clean_sales(two_days, str(tmp_path / "clean"))
    old, new = "curated/clean_sales/_gen=20261124T010000-aaaaaa", "curated/clean_sales/_gen=20261125T010000-bbbbbb"
    upload(s3, tmp_path / "clean" / f"processed_date={PROCESSED}", f"{old}/processed_date={PROCESSED}")
    upload(s3, tmp_path / "clean" / f"processed_date={LATER}", f"{new}/processed_date={LATER}")
    # A stale copy of the later day in the old generation: published nowhere, so never read.
    upload(s3, tmp_path / "clean" / f"processed_date={PROCESSED}", f"{old}/processed_date={LATER}")
    create_clean_sales_table(
        glue,
        {
            PROCESSED: f"s3://{BUCKET}/{old}/processed_date={PROCESSED}/",
            LATER: f"s3://{BUCKET}/{new}/processed_date={LATER}/",
        },
    )
    output = tmp_path / "daily"

    job.main(["job.py", "--JOB_NAME", "daily", "--input_table", "sales_db.clean_sales", "--output_path", str(output)])

    assert len(list(output.glob("*.parquet"))) == 1
    assert sorted(spark.read.parquet(str(output)).collect()) == sorted(summarise(clean_df).collect())


def test_job_needs_a_database_dot_table_input(tmp_path):
    with pytest.raises(ValueError, match="must be 'database.table'.*got 'clean_sales'"):
        job.main(["job.py", "--JOB_NAME", "daily", "--input_table", "clean_sales", "--output_path", str(tmp_path)])


# -- a catalog and S3 emulator for the job test (moto over HTTP) ------------------------------


@pytest.fixture(scope="module")
def moto_endpoint():
    moto_server = pytest.importorskip(
        "moto.server",
        reason="moto is not installed (it is in requirements-dev.txt, not requirements.txt): "
        "no Glue Data Catalog emulator for the tests that read through the catalog",
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
    for name, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


def upload(s3, folder, prefix):
    for path in folder.iterdir():
        if path.is_file():
            s3.upload_file(str(path), BUCKET, f"{prefix}/{path.name}")


def create_clean_sales_table(glue, locations):
    """sales_db.clean_sales as publishing leaves it: Parquet, partitioned by processed_date."""
    parquet = {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    }
    columns = [
        {"Name": f.name, "Type": f.dataType.simpleString()} for f in clean_schema().fields if f.name != "processed_date"
    ]
    glue.create_database(DatabaseInput={"Name": "sales_db"})
    glue.create_table(
        DatabaseName="sales_db",
        TableInput={
            "Name": "clean_sales",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet"},
            "PartitionKeys": [{"Name": "processed_date", "Type": "date"}],
            "StorageDescriptor": {"Columns": columns, "Location": f"s3://{BUCKET}/curated/clean_sales/", **parquet},
        },
    )
    glue.batch_create_partition(
        DatabaseName="sales_db",
        TableName="clean_sales",
        PartitionInputList=[
            {"Values": [str(day)], "StorageDescriptor": {"Columns": columns, "Location": location, **parquet}}
            for day, location in locations.items()
        ],
    )
