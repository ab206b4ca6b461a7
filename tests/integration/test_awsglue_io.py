"""The awsglue runtime's sources and sinks against the emulator's S3 and Glue Data Catalog (over HTTP).

Every test uses its own bucket prefix and database. Expected values follow AWS's documentation
of ``create_dynamic_frame``, ``write_dynamic_frame``, ``getSink`` and ``purge_s3_path``.
"""

from __future__ import annotations

import gzip
import json
import uuid

import pytest
from awsglue._unsupported import NotSupportedLocally
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from pyspark.sql import SparkSession

from glue_runtime import local_spark_session
from localglue.catalog import CatalogReadError


@pytest.fixture(scope="module")
def spark():
    existing = SparkSession.getActiveSession()
    session = local_spark_session("awsglue-io-tests")
    yield session
    if existing is None:
        session.stop()


@pytest.fixture
def glue_context(spark, aws_env):
    return GlueContext(spark.sparkContext)


@pytest.fixture(scope="module")
def bucket(aws):
    name = f"awsglue-{uuid.uuid4().hex[:12]}"
    aws("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def prefix(bucket):
    return f"s3://{bucket}/{uuid.uuid4().hex[:10]}"


@pytest.fixture
def database(aws):
    name = f"db_{uuid.uuid4().hex[:10]}"
    aws("glue").create_database(DatabaseInput={"Name": name})
    return name


def put(aws, uri: str, body: str | bytes) -> None:
    bucket, _, key = uri[5:].partition("/")
    aws("s3").put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)


def keys(aws, uri: str) -> list[str]:
    bucket, _, key = uri[5:].partition("/")
    listed = aws("s3").list_objects_v2(Bucket=bucket, Prefix=key.rstrip("/") + "/").get("Contents", [])
    return sorted(o["Key"][len(key.rstrip("/")) + 1 :] for o in listed)


def types_of(frame) -> dict[str, str]:
    return {f.name: f.dataType.typeName() for f in frame.schema().fields}


def rows(frame) -> list[tuple]:
    return sorted((tuple(r) for r in frame.toDF().collect()), key=repr)


# -- s3 sources ------------------------------------------------------------------------------


def test_csv_values_are_typed_per_column_and_a_mixed_column_is_a_choice(aws, glue_context, prefix):
    put(aws, f"{prefix}/providers.csv", "provider id,name,discharges,charges\n1,A,10,1.5\n2,B,20,2\nX3,C,30,$3\n")

    frame = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [f"{prefix}/"]}, "csv", {"withHeader": True}, transformation_ctx="src"
    )

    assert types_of(frame) == {"provider id": "choice", "name": "string", "discharges": "long", "charges": "choice"}
    cols = frame.resolveChoice(specs=[("provider id", "make_cols")]).toDF()
    assert sorted(cols.columns) == ["charges", "discharges", "name", "provider id_long", "provider id_string"]
    projected = frame.resolveChoice(specs=[("provider id", "cast:long"), ("charges", "project:double")])
    assert rows(projected.select_fields(["provider id", "charges"])) == [(1, 1.5), (2, 2.0), (None, None)]


def test_csv_format_options_without_header_name_columns_col0_and_on(aws, glue_context, prefix):
    put(aws, f"{prefix}/a.csv", "skip me\n'a;b';1\n'c';2\n")
    put(aws, f"{prefix}/sub/b.csv", "skip me\n'd';3\n")

    flat = glue_context.create_dynamic_frame.from_options(
        "s3",
        {"paths": [f"{prefix}/"]},
        "csv",
        {"separator": ";", "quoteChar": "'", "skipFirst": True},
    )
    deep = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [f"{prefix}/"], "recurse": True}, "csv", {"separator": ";", "quoteChar": "'", "skipFirst": True}
    )

    assert rows(flat) == [("a;b", 1), ("c", 2)]  # without recurse, sub-folders are not read
    assert types_of(deep) == {"col0": "string", "col1": "long"}
    assert rows(deep) == [("a;b", 1), ("c", 2), ("d", 3)]


def test_json_and_parquet_sources_with_several_paths_and_exclusions(aws, spark, glue_context, prefix):
    put(aws, f"{prefix}/json/1.json", '{"id": 1, "tags": ["a"], "address": {"city": "Oslo"}}\n')
    put(aws, f"{prefix}/json/ignored.json", '{"id": 99}\n')
    put(aws, f"{prefix}/more/2.json", '{"id": 2, "tags": [], "address": {"city": "Rome"}}\n')
    put(aws, f"{prefix}/more/notes.txt", "not json")
    spark.createDataFrame([(1, "x")], "id long, v string").write.parquet(f"{prefix}/parquet/")

    people = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [f"{prefix}/json/1.json", f"{prefix}/more/"], "exclusions": '["**.txt"]'}, "json"
    )
    table = glue_context.create_dynamic_frame.from_options("s3", {"paths": [f"{prefix}/parquet/"]}, "parquet")

    assert rows(people.select_fields(["id"])) == [(1,), (2,)]
    assert sorted(r.city for r in people.toDF().select("address.city").collect()) == ["Oslo", "Rome"]
    assert rows(table) == [(1, "x")]


def test_an_empty_source_is_an_empty_frame(glue_context, prefix):
    frame = glue_context.create_dynamic_frame.from_options("s3", {"paths": [f"{prefix}/nothing/"]}, "json")

    assert frame.count() == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda gc, p: gc.create_dynamic_frame.from_options("s3", {"paths": [p]}, "avro"),
            "create_dynamic_frame.from_options: format 'avro' (supported locally: csv, json, parquet, glueparquet",
        ),
        (
            lambda gc, p: gc.create_dynamic_frame.from_options("dynamodb", {"dynamodb.input.tableName": "t"}),
            "create_dynamic_frame.from_options: connection_type 'dynamodb' (only 's3' runs locally)",
        ),
        (
            lambda gc, p: gc.create_dynamic_frame.from_options("s3", {"paths": [p]}, "csv", {"withHeadr": True}),
            "create_dynamic_frame.from_options: format_options 'withHeadr'",
        ),
        (
            lambda gc, p: gc.write_dynamic_frame.from_options(None, "s3", {"path": p, "partitionKey": ["x"]}, "json"),
            "write_dynamic_frame.from_options: connection_options 'partitionKey'",
        ),
        (lambda gc, p: gc.extract_jdbc_conf("conn"), "GlueContext.extract_jdbc_conf"),
        (lambda gc, p: gc.write_dynamic_frame.from_jdbc_conf(None, "conn"), "write_dynamic_frame.from_jdbc_conf"),
    ],
)
def test_what_is_not_supported_fails_loudly_with_the_call_and_the_docs(glue_context, prefix, call, message):
    with pytest.raises(NotSupportedLocally) as caught:
        call(glue_context, prefix)

    assert message in str(caught.value)
    assert "is not supported by the local awsglue runtime" in str(caught.value)
    assert "https://docs.aws.amazon.com/glue/latest/dg/" in str(caught.value)


# -- catalog sources -----------------------------------------------------------------------


def create_table(aws, database, name, location, columns, *, keys=(), serde=None, parameters=None):
    aws("glue").create_table(
        DatabaseName=database,
        TableInput={
            "Name": name,
            "Parameters": parameters or {},
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in keys],
            "StorageDescriptor": {
                "Columns": [{"Name": n, "Type": t} for n, t in columns],
                "Location": location,
                "SerdeInfo": serde or {},
            },
        },
    )


def test_a_csv_catalog_table_keeps_its_types_and_misfits_become_a_choice(aws, glue_context, database, prefix):
    """AWS's Medicare example: the catalog says bigint, some values are not numbers."""
    put(aws, f"{prefix}/medicare/part-0.csv", "provider id|drg\n10001|039\n10005|057\nABC|064\n")
    create_table(
        aws,
        database,
        "medicare",
        f"{prefix}/medicare/",
        [("provider id", "bigint"), ("drg", "string")],
        serde={
            "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            "Parameters": {"field.delim": "|"},
        },
        parameters={"classification": "csv", "skip.header.line.count": "1"},
    )

    frame = glue_context.create_dynamic_frame.from_catalog(database=database, table_name="medicare")

    assert types_of(frame) == {"provider id": "choice", "drg": "string"}
    resolved = frame.resolveChoice(specs=[("provider id", "cast:long")])
    assert rows(resolved) == [(10001, "039"), (10005, "057"), (None, "064")]


def test_push_down_predicate_reads_only_the_matching_partitions(aws, spark, glue_context, database, prefix):
    for day in ("2026-11-24", "2026-11-25", "2026-11-26"):
        spark.createDataFrame([(day,)], "v string").write.parquet(f"{prefix}/t/day={day}/")
    create_table(aws, database, "t", f"{prefix}/t/", [("v", "string")], keys=[("day", "date")],
                 parameters={"classification": "parquet"})  # fmt: skip
    aws("glue").batch_create_partition(
        DatabaseName=database,
        TableName="t",
        PartitionInputList=[
            {"Values": [day], "StorageDescriptor": {"Location": f"{prefix}/t/day={day}/"}}
            for day in ("2026-11-24", "2026-11-25", "2026-11-26")
        ],
    )

    frame = glue_context.create_dynamic_frame.from_catalog(
        database=database, table_name="t", push_down_predicate="day >= '2026-11-25'"
    )

    assert [r.v for r in frame.toDF().orderBy("v").collect()] == ["2026-11-25", "2026-11-26"]
    with pytest.raises(CatalogReadError, match=r"partition predicate 'month = 1' is not valid on the partition keys"):
        glue_context.create_dynamic_frame.from_catalog(
            database=database, table_name="t", push_down_predicate="month = 1"
        )


def test_a_missing_table_and_an_empty_location_name_the_table(aws, glue_context, database, prefix):
    create_table(aws, database, "empty", f"{prefix}/empty/", [("v", "string")],
                 parameters={"classification": "parquet"})  # fmt: skip

    with pytest.raises(CatalogReadError, match=f"{database}.nope: table 'nope' not found in database '{database}'"):
        glue_context.create_dynamic_frame.from_catalog(database=database, table_name="nope")
    with pytest.raises(CatalogReadError, match=f"{database}.empty: the table's location {prefix}/empty/ holds no data"):
        glue_context.create_dynamic_frame.from_catalog(database=database, table_name="empty")


# -- sinks ----------------------------------------------------------------------------------


def sales(spark, glue_context, data=(("S1", "2026-11-24", 1.5), ("S2", "2026-11-25", 2.0))):
    df = spark.createDataFrame(list(data), "sale_id string, day string, amount double")
    return DynamicFrame.fromDF(df, glue_context, "sales")


def test_from_options_writes_partition_folders_and_appends(aws, spark, glue_context, prefix):
    frame = sales(spark, glue_context)

    for _ in range(2):
        glue_context.write_dynamic_frame.from_options(
            frame=frame,
            connection_type="s3",
            connection_options={"path": f"{prefix}/out/", "partitionKeys": ["day"]},
            format="glueparquet",
        )

    written = keys(aws, f"{prefix}/out")
    assert {k.split("/")[0] for k in written if k.endswith(".parquet")} == {"day=2026-11-24", "day=2026-11-25"}
    assert spark.read.parquet(f"{prefix}/out/").count() == 4  # Glue's sinks append


def test_csv_sink_with_options_and_gzip(aws, spark, glue_context, prefix):
    glue_context.write_dynamic_frame.from_options(
        frame=sales(spark, glue_context),
        connection_type="s3",
        connection_options={"path": f"{prefix}/csv/", "compression": "gzip"},
        format="csv",
        format_options={"separator": "|", "writeHeader": False},
    )

    lines = []
    for part in [k for k in keys(aws, f"{prefix}/csv") if k.endswith(".csv.gz")]:
        bucket, _, key = f"{prefix}/csv/{part}"[5:].partition("/")
        lines += gzip.decompress(aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()).decode().splitlines()
    assert sorted(lines) == ["S1|2026-11-24|1.5", "S2|2026-11-25|2.0"]


def test_get_sink_creates_the_table_then_adds_partitions_and_columns(aws, spark, glue_context, database, prefix):
    def write(frame):
        sink = glue_context.getSink(
            connection_type="s3", path=f"{prefix}/sales/", enableUpdateCatalog=True, partitionKeys=["day"]
        )
        sink.setFormat("glueparquet")
        sink.setCatalogInfo(catalogDatabase=database, catalogTableName="sales")
        sink.writeFrame(frame)

    write(sales(spark, glue_context))
    later = spark.createDataFrame(
        [("S3", "2026-11-26", 3.0, "EUR")], "sale_id string, day string, amount double, cur string"
    )
    write(DynamicFrame.fromDF(later, glue_context, "later"))

    table = aws("glue").get_table(DatabaseName=database, Name="sales")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["sale_id", "amount", "cur"]
    assert table["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    partitions = aws("glue").get_partitions(DatabaseName=database, TableName="sales")["Partitions"]
    assert sorted((p["Values"][0], p["StorageDescriptor"]["Location"]) for p in partitions) == [
        (day, f"{prefix}/sales/day={day}/") for day in ("2026-11-24", "2026-11-25", "2026-11-26")
    ]
    back = glue_context.create_dynamic_frame.from_catalog(database=database, table_name="sales").toDF()
    assert sorted((r.sale_id, r.cur, r.day) for r in back.collect()) == [
        ("S1", None, "2026-11-24"),
        ("S2", None, "2026-11-25"),
        ("S3", "EUR", "2026-11-26"),
    ]


def test_get_sink_update_needs_the_catalog_info(spark, glue_context, prefix):
    sink = glue_context.getSink(connection_type="s3", path=f"{prefix}/x/", enableUpdateCatalog=True)
    sink.setFormat("json")

    with pytest.raises(ValueError, match=r"enableUpdateCatalog=True needs setCatalogInfo"):
        sink.writeFrame(sales(spark, glue_context))


def test_from_catalog_sink_writes_in_the_tables_format_and_partitioning(aws, spark, glue_context, database, prefix):
    create_table(aws, database, "sales", f"{prefix}/sales/", [("sale_id", "string"), ("amount", "double")],
                 keys=[("day", "string")], parameters={"classification": "json"},
                 serde={"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"})  # fmt: skip

    glue_context.write_dynamic_frame.from_catalog(
        frame=sales(spark, glue_context),
        database=database,
        table_name="sales",
        additional_options={"enableUpdateCatalog": True},
    )

    assert any(k.startswith("day=2026-11-24/") and k.endswith(".json") for k in keys(aws, f"{prefix}/sales"))
    frame = glue_context.create_dynamic_frame.from_catalog(database=database, table_name="sales")
    assert rows(frame) == [("S1", 1.5, "2026-11-24"), ("S2", 2.0, "2026-11-25")]


def test_purge_s3_path_deletes_by_age(aws, glue_context, prefix):
    put(aws, f"{prefix}/old/a.json", "{}")
    put(aws, f"{prefix}/old/_SUCCESS", "")

    glue_context.purge_s3_path(f"{prefix}/old/")  # default retention: 168 hours
    kept = keys(aws, f"{prefix}/old")
    glue_context.purge_s3_path(f"{prefix}/old/", {"retentionPeriod": 0})

    assert kept == ["_SUCCESS", "a.json"]
    assert keys(aws, f"{prefix}/old") == []


# -- Spark's own readers and writers on s3:// ---------------------------------------------------


def test_spark_reads_and_writes_s3_paths_with_save_modes(aws, spark, glue_context, prefix):
    df = spark.createDataFrame([(1, "a"), (2, "b")], "id long, part string")
    target = f"{prefix}/spark/"

    df.write.parquet(target)
    with pytest.raises(FileExistsError, match=f"path {target} already exists"):
        df.write.parquet(target)
    df.write.mode("append").parquet(target)
    df.write.mode("ignore").parquet(target)
    appended = spark.read.parquet(target).count()
    df.limit(1).write.mode("overwrite").parquet(target)

    assert appended == 4
    assert spark.read.parquet(target).count() == 1
    assert spark.read.format("parquet").load(f"{prefix}/spa*/").count() == 1  # globs, as Spark's


def test_dynamic_partition_overwrite_replaces_only_the_written_partitions(aws, spark, glue_context, prefix):
    df = spark.createDataFrame([(1, "a"), (2, "b")], "id long, part string")
    target = f"{prefix}/parts/"
    df.write.partitionBy("part").parquet(target)
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    try:
        spark.createDataFrame([(3, "b")], "id long, part string").write.mode("overwrite").partitionBy("part").parquet(
            target
        )
    finally:
        spark.conf.unset("spark.sql.sources.partitionOverwriteMode")

    assert sorted(tuple(r) for r in spark.read.parquet(target).collect()) == [(1, "a"), (3, "b")]


def test_a_single_object_and_a_missing_path(aws, spark, glue_context, prefix):
    put(aws, f"{prefix}/one.json", json.dumps({"id": 7}))

    assert spark.read.json(f"{prefix}/one.json").first().id == 7
    with pytest.raises(FileNotFoundError, match=f"Path does not exist: {prefix}/none/"):
        spark.read.json(f"{prefix}/none/")
