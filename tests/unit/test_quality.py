"""The quality gate's engine: real suites, real GX, real Spark output, a real S3 emulator (moto over HTTP)."""

import io
import json
import re
import socket
from datetime import date
from pathlib import Path

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer
from pyspark.sql import functions as F

from daily_sales_summary.transforms import summarise
from glue_cicd.paths import EXPECTATIONS_DIR
from glue_cicd.quality import (
    DatasetUnavailableError,
    QualityError,
    QualityResult,
    load_suite,
    read_dataset,
    validate,
    validate_s3_dataset,
)
from glue_runtime import local_spark_session
from process_sales_data.tests.sample_data import generate_rows
from process_sales_data.transforms import (
    OUTPUT_COLUMNS,
    RAW_SCHEMA,
    VALID_STATUSES,
    transform_data,
    write_clean_sales,
)

BUCKET = "quality-gate-data"
PROCESSED = date(2026, 11, 24)
SUITES = ("clean_sales", "daily_sales")


def transform_without_amount_rule(raw, processed_date):
    """A plausible broken transform: it normalises, filters and dedups, but forgot the amount rule."""
    return (
        raw.withColumn("status", F.lower(F.trim("status")))
        .where(F.col("sale_id").isNotNull() & F.col("sold_at").isNotNull() & F.col("status").isin(*VALID_STATUSES))
        .dropDuplicates(["sale_id"])
        .withColumn("amount", F.round("amount", 2))
        .withColumn("sale_date", F.to_date("sold_at"))
        .withColumn("processed_date", F.lit(processed_date))
        .select(*OUTPUT_COLUMNS)
    )


@pytest.fixture(scope="session")
def spark():
    session = local_spark_session("quality-tests")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def s3():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


def upload_folder(s3, folder: Path, prefix: str) -> str:
    """Upload every file under ``folder`` (Spark's markers and checksums too) below ``prefix``."""
    for path in folder.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(folder).as_posix()}")
    return f"s3://{BUCKET}/{prefix}/"


def put_parquet(s3, key: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    s3.put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())


@pytest.fixture(scope="module")
def raw_sales(spark):
    return spark.createDataFrame(generate_rows(2000, seed=3), RAW_SCHEMA).cache()


@pytest.fixture(scope="module")
def clean_folder(raw_sales, tmp_path_factory):
    """The real transform's output, written by the job's writer."""
    folder = tmp_path_factory.mktemp("clean")
    write_clean_sales(transform_data(raw_sales, PROCESSED), str(folder))
    return folder


@pytest.fixture(scope="module")
def clean_uri(s3, clean_folder):
    """The clean output uploaded as the job leaves it (markers and checksums included)."""
    return upload_folder(s3, clean_folder, "curated/sales")


@pytest.fixture(scope="module")
def clean_df(s3, clean_uri):
    return read_dataset(s3, clean_uri, "parquet")


def failure(result: QualityResult, expectation: str, column) -> dict:
    matches = [f for f in result.failures if f["expectation"] == expectation and f["column"] == column]
    assert matches, f"{expectation} on {column} did not fail:\n{result.summary()}"
    return matches[0]


# -- suites ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SUITES)
def test_suites_load_whole_in_the_format_gx_writes(name):
    import great_expectations as gx

    data = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text())

    suite = load_suite(name)

    assert suite.name == name
    assert len(suite.expectations) == len(data["expectations"]) > 10
    assert len(gx.ExpectationSuite(**data).expectations) == len(data["expectations"])  # GX's own loader


def test_a_missing_suite_names_the_file_and_the_known_suites(tmp_path):
    (tmp_path / "other.json").write_text("{}")

    with pytest.raises(QualityError, match=r"nope\.json: no such suite 'nope'; known suites in .*: other"):
        load_suite("nope", tmp_path)


def test_a_suite_that_is_not_json_names_the_file_line_and_column(tmp_path):
    (tmp_path / "broken.json").write_text('{\n  "name": "broken",\n  "expectations": [,]\n}')

    with pytest.raises(QualityError, match=r"broken\.json: not valid JSON at line 3, column 20: Expecting value"):
        load_suite("broken", tmp_path)


def test_every_problem_in_a_suite_is_named(tmp_path):
    suite = {
        "name": "wrong_name",
        "expectations": [
            {"type": "expect_column_values_to_be_uniqe", "kwargs": {"column": "sale_id"}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "status"}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}, "colour": "red"},
            "expect_table_row_count_to_be_between",
        ],
        "extra": 1,
    }
    (tmp_path / "bad.json").write_text(json.dumps(suite))

    with pytest.raises(QualityError) as caught:
        load_suite("bad", tmp_path)

    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'bad.json'}: ")
    assert "unknown key 'extra'" in message
    assert "'name' must be the file's name 'bad', got 'wrong_name'" in message
    assert "expectations[0]: unknown expectation type 'expect_column_values_to_be_uniqe'" in message
    assert "(did you mean 'expect_column_values_to_be_unique'?)" in message
    assert "expectations[1] (expect_column_values_to_be_in_set): invalid kwargs: value_set: field required" in message
    assert "expectations[2] (expect_column_values_to_not_be_null): unknown key(s) colour" in message
    assert "expectations[3]: expected an object with 'type'" in message


# -- validating --------------------------------------------------------------------------------


def test_the_real_transform_output_passes_clean_sales(s3, clean_uri):
    result = validate_s3_dataset(s3, clean_uri, "parquet", "clean_sales")

    assert result.success, result.summary()
    assert result.failed == 0
    assert result.passed == result.evaluated > 10
    assert result.row_count > 1500
    assert result.dataset == clean_uri


def test_the_real_daily_summary_passes_daily_sales_and_a_broken_grain_fails(spark, s3, clean_folder, tmp_path):
    folder = tmp_path / "daily"
    summarise(spark.read.parquet(str(clean_folder))).coalesce(1).write.parquet(str(folder))
    uri = upload_folder(s3, folder, "marts/daily_sales")

    passed = validate_s3_dataset(s3, uri, "parquet", "daily_sales")
    daily = read_dataset(s3, uri, "parquet")
    broken = pd.concat([daily, daily.head(1)], ignore_index=True)  # a day and status twice
    broken.loc[1, "avg_amount"] = broken.loc[1, "max_amount"] + 1
    failed = validate(broken, "daily_sales", dataset="broken")

    assert passed.success, passed.summary()
    assert failure(failed, "expect_compound_columns_to_be_unique", ["sale_date", "status"])["unexpected_count"] == 2
    assert failure(failed, "expect_column_pair_values_a_to_be_greater_than_b", ["max_amount", "avg_amount"])
    assert failed.failed == 2, failed.summary()


@pytest.mark.parametrize(
    ("column", "bad_value", "expectation"),
    [
        ("amount", -12.5, "expect_column_values_to_be_between"),
        ("status", "shipped", "expect_column_values_to_be_in_set"),
        ("sale_id", "DUPLICATE", "expect_column_values_to_be_unique"),
    ],
)
def test_a_bad_value_fails_its_expectation_and_shows_in_the_sample(clean_df, column, bad_value, expectation):
    df = clean_df.copy()
    rows = [3] if column != "sale_id" else [3, 4]
    df.loc[rows, column] = bad_value

    result = validate(df, "clean_sales", dataset="in-memory")

    assert not result.success
    assert result.failed == 1, result.summary()
    found = failure(result, expectation, column)
    assert bad_value in found["sample"]
    assert found["unexpected_count"] == len(rows)
    assert f"FAILED {expectation} on {column}: {len(rows)} unexpected" in result.summary()
    assert json.dumps(bad_value) in result.summary()


def test_zero_rows_fail_on_the_row_count(clean_df):
    result = validate(clean_df.iloc[0:0], "clean_sales", dataset="empty")

    assert not result.success
    assert [f["expectation"] for f in result.failures] == ["expect_table_row_count_to_be_between"]
    assert result.failures[0]["observed_value"] == 0


def test_a_transform_that_forgets_the_amount_rule_is_caught(spark, raw_sales, s3, tmp_path):
    write_clean_sales(transform_without_amount_rule(raw_sales, PROCESSED), str(tmp_path))
    uri = upload_folder(s3, tmp_path, "broken/sales")

    result = validate_s3_dataset(s3, uri, "parquet", "clean_sales")

    assert not result.success
    amounts = failure(result, "expect_column_values_to_be_between", "amount")
    assert amounts["sample"]
    assert all(value <= 0 for value in amounts["sample"])
    assert failure(result, "expect_column_values_to_not_be_null", "amount")["unexpected_count"] > 0


def test_missing_columns_fail_the_columns_check_first_and_say_why_others_could_not_run(clean_df):
    result = validate(clean_df.drop(columns=["status"]), "clean_sales", dataset="no-status")

    assert result.failures[0]["expectation"] == "expect_table_columns_to_match_set"
    in_set = failure(result, "expect_column_values_to_be_in_set", "status")
    assert 'The column "status" in BatchData does not exist' in in_set["error"]
    assert "expect_column_values_to_be_in_set on status: could not be evaluated" in result.summary()


def test_results_are_json_and_read_well_in_a_log(clean_df):
    df = clean_df.copy()
    df.loc[0, "sale_date"] = df.loc[0, "processed_date"] + (df.loc[0, "processed_date"] - df.loc[0, "sale_date"])
    df.loc[1, "sale_id"] = None

    result = validate(df, "clean_sales", dataset="s3://b/p/")

    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["failed"] == 2
    pair = failure(result, "expect_column_pair_values_a_to_be_greater_than_b", ["processed_date", "sale_date"])
    assert pair["sample"][0][0].startswith("2026-11-24")
    assert failure(result, "expect_column_values_to_not_be_null", "sale_id")["sample"] == [None]
    assert result.summary().splitlines()[0] == (
        f"Suite clean_sales on s3://b/p/ ({len(df):,} rows): FAILED, {result.evaluated - 2} of "
        f"{result.evaluated} expectations passed, 2 failed"
    )


# -- reading -----------------------------------------------------------------------------------


def test_read_dataset_restores_partitions_and_skips_markers(s3):
    table = pa.table({"sale_id": ["a", "b"], "amount": [1.5, 2.0]})
    put_parquet(s3, "read/parquet/processed_date=2026-11-24/part-0.parquet", table)
    put_parquet(s3, "read/parquet/processed_date=2026-11-25/part-0.parquet", table.slice(0, 1))
    for marker in ("_SUCCESS", "processed_date=2026-11-24/.part-0.parquet.crc", "_temporary/0/part-9.parquet"):
        s3.put_object(Bucket=BUCKET, Key=f"read/parquet/{marker}", Body=b"not parquet")

    df = read_dataset(s3, f"s3://{BUCKET}/read/parquet", "parquet")

    assert list(df.columns) == ["sale_id", "amount", "processed_date"]
    assert str(df["processed_date"].dtype) == "datetime64[ms]"
    assert sorted(d.date().isoformat() for d in df["processed_date"]) == ["2026-11-24", "2026-11-24", "2026-11-25"]


@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("csv", b"sale_id,amount\na,1.5\nb,2.0\n"),
        ("json", b'{"sale_id": "a", "amount": 1.5}\n{"sale_id": "b", "amount": 2.0}\n'),
    ],
)
def test_read_dataset_reads_csv_and_json_lines(s3, fmt, body):
    s3.put_object(Bucket=BUCKET, Key=f"read/{fmt}/year=2026/region=eu%2Fwest/part-0.{fmt}", Body=body)

    df = read_dataset(s3, f"s3://{BUCKET}/read/{fmt}/", fmt)

    assert df.to_dict("list") == {
        "sale_id": ["a", "b"],
        "amount": [1.5, 2.0],
        "year": [2026, 2026],
        "region": ["eu/west", "eu/west"],
    }


def test_a_prefix_without_data_files_is_unavailable(s3):
    s3.put_object(Bucket=BUCKET, Key="markers-only/_SUCCESS", Body=b"")

    for uri in (f"s3://{BUCKET}/nothing-here/", f"s3://{BUCKET}/markers-only/", "s3://no-such-bucket-here/x/"):
        with pytest.raises(DatasetUnavailableError, match=re.escape(f"no data files under {uri}")):
            read_dataset(s3, uri, "parquet")


def test_an_unreadable_file_is_named(s3):
    s3.put_object(Bucket=BUCKET, Key="corrupt/part-0.parquet", Body=b"not parquet at all")

    message = f"cannot read s3://{BUCKET}/corrupt/part-0.parquet as parquet"
    with pytest.raises(DatasetUnavailableError, match=re.escape(message)):
        read_dataset(s3, f"s3://{BUCKET}/corrupt/", "parquet")


def test_an_unknown_format_is_refused(s3):
    with pytest.raises(ValueError, match="unknown dataset format 'avro'; allowed: csv, json, parquet"):
        read_dataset(s3, f"s3://{BUCKET}/x/", "avro")
