"""customer_daily_spend on real local Spark: the transforms, then the whole script with bookmarks.

The script is run unmodified (``job.main``) against moto over HTTP for S3 and the Glue Data
Catalog, as it would run on AWS Glue: it reads the clean sales table, writes Parquet to
``s3://`` and, with bookmarks enabled, a second run reads only the newly published partition.
"""

import uuid
from datetime import UTC, date, datetime

import boto3
import pytest

from customer_daily_spend import job
from customer_daily_spend.transforms import customer_daily_spend
from process_sales_data.transforms import get_output_schema as clean_schema

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)
P1, P2 = date(2026, 11, 24), date(2026, 11, 25)


def clean_rows(*sales, processed=P1):
    """Clean-sales rows from (sale_id, customer_id, amount, status, sale_date)."""
    return [
        (sale_id, customer, "P1", amount, status, datetime(d.year, d.month, d.day, 12, tzinfo=UTC), d, processed)
        for sale_id, customer, amount, status, d in sales
    ]


def frame_of(spark, glue_context, rows):
    from awsglue.dynamicframe import DynamicFrame

    return DynamicFrame.fromDF(spark.createDataFrame(rows, clean_schema()), glue_context, "clean_sales")


def test_completed_sales_are_counted_and_summed_per_customer_and_day(spark, glue_context):
    sales = frame_of(
        spark,
        glue_context,
        clean_rows(
            ("S1", "C1", 10.00, "completed", D1),
            ("S2", "C1", 20.01, "completed", D1),
            ("S3", "C1", 5.00, "refunded", D1),
            ("S4", "C2", 0.10, "completed", D1),
            ("S5", "C1", 99.99, "completed", D2),
        ),
    )

    spend = customer_daily_spend(sales, glue_context)

    assert [f.name for f in spend.schema().fields] == [
        "customer_id", "sale_date", "processed_date", "order_count", "total_amount",
    ]  # fmt: skip
    assert sorted(tuple(r) for r in spend.toDF().collect()) == [
        ("C1", D1, P1, 2, 30.01),
        ("C1", D2, P1, 1, 99.99),
        ("C2", D1, P1, 1, 0.10),
    ]


def test_no_completed_sale_gives_no_record(spark, glue_context):
    sales = frame_of(spark, glue_context, clean_rows(("S1", "C1", 5.0, "refunded", D1)))

    assert customer_daily_spend(sales, glue_context).count() == 0


@pytest.fixture
def catalog(aws_env, spark, glue_context):
    """A bucket and a sales_db.clean_sales table like a publish leaves it (Parquet, by processed_date)."""
    from awsglue import _bookmarks

    _bookmarks.reset()
    bucket, database = f"sales-{uuid.uuid4().hex[:8]}", f"sales_{uuid.uuid4().hex[:8]}"
    s3, glue = boto3.client("s3"), boto3.client("glue")
    s3.create_bucket(Bucket=bucket)
    glue.create_database(DatabaseInput={"Name": database})
    columns = [
        {"Name": f.name, "Type": f.dataType.simpleString()} for f in clean_schema().fields if f.name != "processed_date"
    ]
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": "clean_sales",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet"},
            "PartitionKeys": [{"Name": "processed_date", "Type": "date"}],
            "StorageDescriptor": {"Columns": columns, "Location": f"s3://{bucket}/curated/clean_sales/"},
        },
    )

    def publish(rows, processed):
        """Write one processed day's generation to S3 (Spark writes s3:// here) and register its partition."""
        location = f"s3://{bucket}/curated/clean_sales/_gen={processed:%Y%m%d}/processed_date={processed}/"
        spark.createDataFrame(rows, clean_schema()).drop("processed_date").write.parquet(location)
        glue.create_partition(
            DatabaseName=database,
            TableName="clean_sales",
            PartitionInput={
                "Values": [str(processed)],
                "StorageDescriptor": {"Columns": columns, "Location": location},
            },
        )

    yield bucket, database, publish
    _bookmarks.reset()


def run(database, output, bookmarks="job-bookmark-enable"):
    job.main([
        "job.py", "--JOB_NAME", "customer_daily_spend", "--input_table", f"{database}.clean_sales",
        "--output_path", output, "--job-bookmark-option", bookmarks,
    ])  # fmt: skip


def test_the_script_reads_the_catalog_writes_s3_and_a_second_run_reads_only_new_data(spark, catalog):
    bucket, database, publish = catalog
    output = f"s3://{bucket}/marts/customer_daily_spend/"
    publish(clean_rows(("S1", "C1", 10.0, "completed", D1), ("S2", "C2", 2.5, "completed", D1)), P1)

    run(database, output)
    publish(clean_rows(("S3", "C1", 7.0, "completed", D2), processed=P2), P2)
    run(database, output)

    rows = sorted(tuple(r) for r in spark.read.parquet(output).collect())
    assert rows == [("C1", D1, 1, 10.0, P1), ("C1", D2, 1, 7.0, P2), ("C2", D1, 1, 2.5, P1)]  # nothing twice
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="marts/")["Contents"]]
    assert {k.split("/")[2] for k in keys if k.endswith(".parquet")} == {f"processed_date={P1}", f"processed_date={P2}"}


def test_without_bookmarks_every_run_reads_the_whole_table(spark, catalog):
    bucket, database, publish = catalog
    output = f"s3://{bucket}/marts/customer_daily_spend/"
    publish(clean_rows(("S1", "C1", 10.0, "completed", D1)), P1)

    run(database, output, bookmarks="job-bookmark-disable")
    run(database, output, bookmarks="job-bookmark-disable")

    assert spark.read.parquet(output).count() == 2  # Glue's writes append: the same row twice


def test_a_missing_input_table_fails_with_its_name(catalog, tmp_path):
    from localglue.catalog import CatalogReadError

    _, database, _ = catalog
    with pytest.raises(CatalogReadError, match=f"{database}.no_such_table: table 'no_such_table' not found"):
        job.main([
            "job.py", "--JOB_NAME", "customer_daily_spend", "--input_table", f"{database}.no_such_table",
            "--output_path", str(tmp_path),
        ])  # fmt: skip
