"""``localglue.catalog.read_table``: Glue Data Catalog tables read on local Spark, against the emulator.

Tables live in the emulator's catalog, their data in its S3 (over HTTP, no mocks); every test
uses its own database and prefixes. The last test runs a script through the emulator's Glue
``StartJobRun`` to show that its job runs can import ``localglue``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from glue_runtime import local_spark_session
from localglue.catalog import CatalogReadError, read_table
from support.glue_runs import wait_for_run

ROLE = "arn:aws:iam::123456789012:role/glue-cicd-glue-service-role"
SCRIPTS_BUCKET = "glue-cicd-artifacts-123456789012"
PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
}


@pytest.fixture(scope="module")
def spark():
    """One local session for the module; stopped after it only if this module started it."""
    existing = SparkSession.getActiveSession()
    session = local_spark_session("localglue-tests")
    yield session
    if existing is None:
        session.stop()


@pytest.fixture(scope="module")
def bucket(aws):
    name = f"localglue-{uuid.uuid4().hex[:12]}"
    aws("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def database(aws):
    name = f"db_{uuid.uuid4().hex[:10]}"
    aws("glue").create_database(DatabaseInput={"Name": name})
    return name


def upload_folder(s3, folder: Path, bucket: str, prefix: str) -> None:
    """Every file under ``folder`` (Spark's _SUCCESS and .crc files included) to ``prefix``."""
    for path in folder.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(folder).as_posix()}")


def create_table(glue, database: str, table: str, location: str, columns, *, keys=(), parameters=None, **descriptor):
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": table,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters if parameters is not None else {"classification": "parquet"},
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in keys],
            "StorageDescriptor": {
                "Columns": [{"Name": n, "Type": t} for n, t in columns],
                "Location": location,
                **(descriptor or PARQUET),
            },
        },
    )


def add_partitions(glue, database: str, table: str, locations: dict[tuple[str, ...], str]) -> None:
    glue.batch_create_partition(
        DatabaseName=database,
        TableName=table,
        PartitionInputList=[
            {"Values": list(values), "StorageDescriptor": {"Location": location, **PARQUET}}
            for values, location in locations.items()
        ],
    )


def test_an_unpartitioned_parquet_table_reads_with_the_catalog_types(spark, aws, aws_env, bucket, database, tmp_path):
    df = spark.createDataFrame([(1, "a", 1.5), (2, "b", 2.25), (3, None, 10.0)], "id int, name string, amount double")
    df.write.parquet(str(tmp_path / "data"))
    prefix = f"curated/items/_gen={uuid.uuid4().hex[:8]}"
    upload_folder(aws("s3"), tmp_path / "data", bucket, prefix)
    aws("s3").put_object(Bucket=bucket, Key=f"{prefix}/empty.parquet", Body=b"")  # empty objects hold no data
    columns = [("id", "bigint"), ("name", "varchar(10)"), ("amount", "decimal(10,2)"), ("added", "string")]
    create_table(aws("glue"), database, "items", f"s3://{bucket}/{prefix}/", columns)

    result = read_table(spark, database, "items")

    assert result.schema == T.StructType(
        [
            T.StructField("id", T.LongType()),
            T.StructField("name", T.StringType()),
            T.StructField("amount", T.DecimalType(10, 2)),
            T.StructField("added", T.StringType()),  # in the catalog, not yet in the files: null
        ]
    )
    assert sorted(tuple(r) for r in result.collect()) == [
        (1, "a", Decimal("1.50"), None),
        (2, "b", Decimal("2.25"), None),
        (3, None, Decimal("10.00"), None),
    ]


def test_a_partitioned_table_reads_each_partition_at_its_own_generation(spark, aws, database, bucket, tmp_path):
    s3, glue = aws("s3"), aws("glue")
    schema = "sale_id string, amount double"
    spark.createDataFrame([("S1", 1.0), ("S2", 2.0)], schema).write.parquet(str(tmp_path / "day1"))
    spark.createDataFrame([("S3", 3.0)], schema).write.parquet(str(tmp_path / "day2"))
    spark.createDataFrame([("STALE", 99.0)], schema).write.parquet(str(tmp_path / "stale"))
    table_prefix = f"curated/sales-{uuid.uuid4().hex[:8]}"
    old, new = f"{table_prefix}/_gen=20261124T120000-aaaaaa", f"{table_prefix}/_gen=20261125T120000-bbbbbb"
    upload_folder(s3, tmp_path / "day1", bucket, f"{old}/day=2026-11-24/hour=1")
    upload_folder(s3, tmp_path / "stale", bucket, f"{old}/day=2026-11-25/hour=7")  # superseded: not published
    upload_folder(s3, tmp_path / "day2", bucket, f"{new}/day=2026-11-25/hour=7")
    create_table(
        glue,
        database,
        "sales",
        f"s3://{bucket}/{table_prefix}/",
        [("sale_id", "string"), ("amount", "double")],
        keys=[("day", "date"), ("hour", "int")],
    )
    add_partitions(
        glue,
        database,
        "sales",
        {
            ("2026-11-24", "1"): f"s3://{bucket}/{old}/day=2026-11-24/hour=1/",
            ("2026-11-25", "7"): f"s3://{bucket}/{new}/day=2026-11-25/hour=7",
        },
    )

    # Explicit clients this time (no AWS_ENDPOINT_URL in the environment).
    result = read_table(spark, database, "sales", glue=glue, s3=s3)

    assert [(f.name, f.dataType) for f in result.schema.fields] == [
        ("sale_id", T.StringType()),
        ("amount", T.DoubleType()),
        ("day", T.DateType()),
        ("hour", T.IntegerType()),
    ]
    assert sorted(tuple(r) for r in result.collect()) == [
        ("S1", 1.0, dt.date(2026, 11, 24), 1),
        ("S2", 2.0, dt.date(2026, 11, 24), 1),
        ("S3", 3.0, dt.date(2026, 11, 25), 7),
    ]


def test_a_partitioned_table_without_partitions_is_empty_with_its_schema(spark, aws, aws_env, database, bucket):
    create_table(
        aws("glue"),
        database,
        "nothing_yet",
        f"s3://{bucket}/curated/nothing-{uuid.uuid4().hex[:8]}/",
        [("id", "bigint"), ("tags", "array<string>")],
        keys=[("day", "date")],
    )

    result = read_table(spark, database, "nothing_yet")

    assert result.count() == 0
    assert [(f.name, f.dataType) for f in result.schema.fields] == [
        ("id", T.LongType()),
        ("tags", T.ArrayType(T.StringType())),
        ("day", T.DateType()),
    ]


def test_a_csv_table_uses_its_delimiter_header_skip_and_types(spark, aws, aws_env, database, bucket):
    s3 = aws("s3")
    prefix = f"raw/orders-{uuid.uuid4().hex[:8]}"
    s3.put_object(Bucket=bucket, Key=f"{prefix}/a.csv", Body=b"id|name|day|amount\n1|ann|2026-11-24|10.5\n2|bob||3\n")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/b.csv", Body=b"id|name|day|amount\n3|cy|2026-11-25|7.25\n")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/_SUCCESS", Body=b"")
    create_table(
        aws("glue"),
        database,
        "orders",
        f"s3://{bucket}/{prefix}",
        [("id", "int"), ("name", "string"), ("day", "date"), ("amount", "double")],
        parameters={"classification": "csv", "skip.header.line.count": "1"},
        InputFormat="org.apache.hadoop.mapred.TextInputFormat",
        SerdeInfo={
            "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            "Parameters": {"field.delim": "|"},
        },
    )

    result = read_table(spark, database, "orders")

    assert [(f.name, f.dataType) for f in result.schema.fields] == [
        ("id", T.IntegerType()),
        ("name", T.StringType()),
        ("day", T.DateType()),
        ("amount", T.DoubleType()),
    ]
    assert sorted(tuple(r) for r in result.collect()) == [
        (1, "ann", dt.date(2026, 11, 24), 10.5),
        (2, "bob", None, 3.0),
        (3, "cy", dt.date(2026, 11, 25), 7.25),
    ]


def test_a_json_table_is_recognised_by_its_serde(spark, aws, aws_env, database, bucket):
    s3 = aws("s3")
    prefix = f"raw/events-{uuid.uuid4().hex[:8]}"
    lines = b'{"id": 1, "kind": "click", "tags": ["a", "b"]}\n{"id": 2, "kind": "view", "extra": true}\n'
    s3.put_object(Bucket=bucket, Key=f"{prefix}/part-0.json", Body=lines)
    create_table(
        aws("glue"),
        database,
        "events",
        f"s3://{bucket}/{prefix}/",
        [("id", "bigint"), ("kind", "string"), ("tags", "array<string>")],
        parameters={},  # no classification: the SerDe says JSON
        InputFormat="org.apache.hadoop.mapred.TextInputFormat",
        SerdeInfo={"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
    )

    result = read_table(spark, database, "events")

    assert result.columns == ["id", "kind", "tags"]
    assert sorted(tuple(r) for r in result.collect()) == [(1, "click", ["a", "b"]), (2, "view", None)]


def test_a_missing_database_or_table_is_named(spark, aws, aws_env, database):
    with pytest.raises(CatalogReadError, match=rf"^{database}\.absent: table 'absent' not found in database"):
        read_table(spark, database, "absent")
    with pytest.raises(CatalogReadError, match=r"^no_such_db_x\.sales: database 'no_such_db_x' not found"):
        read_table(spark, "no_such_db_x", "sales")


def test_a_location_without_data_files_is_an_error_naming_the_table(spark, aws, aws_env, database, bucket):
    prefix = f"curated/empty-{uuid.uuid4().hex[:8]}"
    aws("s3").put_object(Bucket=bucket, Key=f"{prefix}/_SUCCESS", Body=b"")
    aws("s3").put_object(Bucket=bucket, Key=f"{prefix}/.part-0.crc", Body=b"crc")
    aws("s3").put_object(Bucket=bucket, Key=f"{prefix}/part-0.parquet", Body=b"")
    create_table(aws("glue"), database, "hollow", f"s3://{bucket}/{prefix}/", [("id", "bigint")])

    with pytest.raises(CatalogReadError, match=rf"^{database}\.hollow: the table's location s3://.*/ holds no data"):
        read_table(spark, database, "hollow")


def test_an_unsupported_classification_is_an_error_naming_the_table(spark, aws, aws_env, database, bucket):
    create_table(
        aws("glue"), database, "avro_t", f"s3://{bucket}/x/", [("id", "bigint")], parameters={"classification": "avro"}
    )

    with pytest.raises(CatalogReadError, match=rf"^{database}\.avro_t: classification 'avro' is not supported"):
        read_table(spark, database, "avro_t")


CATALOG_COUNT = """
import sys

import boto3
from pyspark.sql import SparkSession

from localglue.catalog import read_table

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
rows = read_table(spark, args["--database"], args["--table"]).count()
bucket, _, key = args["--output"][len("s3://"):].partition("/")
boto3.client("s3").put_object(Bucket=bucket, Key=key + "count.txt", Body=str(rows).encode())
"""


def test_the_emulators_job_runs_can_import_localglue(spark, aws, database, bucket, tmp_path):
    s3, glue = aws("s3"), aws("glue")
    prefix = f"curated/counted-{uuid.uuid4().hex[:8]}/_gen=1"
    spark.range(5).write.parquet(str(tmp_path / "data"))
    upload_folder(s3, tmp_path / "data", bucket, prefix)
    create_table(glue, database, "counted", f"s3://{bucket}/{prefix}/", [("id", "bigint")])
    script = f"test-scripts/{uuid.uuid4().hex}.py"
    s3.put_object(Bucket=SCRIPTS_BUCKET, Key=script, Body=CATALOG_COUNT.encode())
    name = f"test-{uuid.uuid4().hex[:10]}"
    glue.create_job(
        Name=name,
        Role=ROLE,
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{SCRIPTS_BUCKET}/{script}", "PythonVersion": "3"},
        GlueVersion="5.0",
    )
    output = f"out/{uuid.uuid4().hex[:8]}/"

    run_id = glue.start_job_run(
        JobName=name,
        Arguments={"--database": database, "--table": "counted", "--output": f"s3://{bucket}/{output}"},
    )["JobRunId"]

    run = wait_for_run(glue, name, run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert s3.get_object(Bucket=bucket, Key=f"{output}count.txt")["Body"].read() == b"5"
