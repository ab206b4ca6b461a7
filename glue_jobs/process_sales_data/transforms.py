"""Cleaning rules for raw sales records, and the run summary the job leaves behind.

A raw row is rejected, for the first reason that applies, when it has no sale_id, no (parsable)
sale timestamp, no amount, an amount that is not positive once rounded to cents, or a status
outside :data:`VALID_STATUSES` (compared trimmed and lower-cased). Among the rows that pass, one
row per sale_id is kept: the latest ``sold_at`` (a later record corrects an earlier one), ties
broken by the other columns so the result never depends on file order; the rest are rejected
as ``duplicate_sale_id``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

RAW_SCHEMA = T.StructType(
    [
        T.StructField("sale_id", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("product_id", T.StringType()),
        T.StructField("amount", T.DoubleType()),
        T.StructField("status", T.StringType()),
        T.StructField("sold_at", T.TimestampType()),
    ]
)
VALID_STATUSES = ("completed", "pending", "refunded", "cancelled")
REJECTION_REASONS = (
    "missing_sale_id",
    "missing_sold_at",
    "missing_amount",
    "non_positive_amount",
    "invalid_status",
    "duplicate_sale_id",
)
OUTPUT_COLUMNS = ("sale_id", "customer_id", "product_id", "amount", "status", "sold_at", "sale_date", "processed_date")
_REASON = "rejection_reason"


def get_output_schema() -> T.StructType:
    """The clean sales schema, as :func:`transform_data` returns it and the job writes it.

    Amounts are doubles rounded to cents. Spark marks a column non-nullable only when it can
    prove it (here the ``processed_date`` literal); the clean_sales suite checks the not-null keys.
    """
    return T.StructType(
        [
            *RAW_SCHEMA.fields,
            T.StructField("sale_date", T.DateType()),
            T.StructField("processed_date", T.DateType(), nullable=False),
        ]
    )


def classify(df: DataFrame) -> DataFrame:
    """``df`` with status and amount normalised and a ``rejection_reason`` column (null = clean)."""
    df = df.withColumn("status", F.lower(F.trim("status"))).withColumn("amount", F.round("amount", 2))
    valid_status = F.coalesce(F.col("status").isin(*VALID_STATUSES), F.lit(False))
    reason = (
        F.when(F.col("sale_id").isNull(), "missing_sale_id")
        .when(F.col("sold_at").isNull(), "missing_sold_at")
        .when(F.col("amount").isNull(), "missing_amount")
        .when(F.col("amount") <= 0, "non_positive_amount")
        .when(~valid_status, "invalid_status")
    )
    df = df.withColumn(_REASON, reason)
    latest_first = Window.partitionBy("sale_id", F.col(_REASON).isNull()).orderBy(
        F.col("sold_at").desc(), F.col("amount").desc(), "status", "customer_id", "product_id"
    )
    rank = F.row_number().over(latest_first)
    return df.withColumn(
        _REASON, F.when(F.col(_REASON).isNull() & (rank > 1), "duplicate_sale_id").otherwise(F.col(_REASON))
    )


def transform_data(df: DataFrame, processed_date: date) -> DataFrame:
    """The clean rows of raw ``df`` (see the module docstring), stamped with ``processed_date``."""
    return (
        classify(df)
        .where(F.col(_REASON).isNull())
        .withColumn("sale_date", F.to_date("sold_at"))
        .withColumn("processed_date", F.lit(processed_date))
        .select(*OUTPUT_COLUMNS)
    )


def rejected_counts(df: DataFrame) -> dict[str, int]:
    """How many raw rows of ``df`` are rejected, for each of :data:`REJECTION_REASONS` (zeros included)."""
    counts = dict.fromkeys(REJECTION_REASONS, 0)
    for row in classify(df).where(F.col(_REASON).isNotNull()).groupBy(_REASON).count().collect():
        counts[row[_REASON]] = row["count"]
    return counts


def write_clean_sales(df: DataFrame, output_path: str) -> None:
    """Replace the dataset at ``output_path`` with ``df``, as Parquet partitioned by processed_date.

    Each run rewrites the whole dataset from the whole raw input (static overwrite, whatever the
    cluster's default), so a sale_id appears once across partitions. Timestamps are written as
    UTC-adjusted INT64 microseconds (INT96 is deprecated and reads back without a time zone).
    """
    df.sparkSession.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    (
        df.write.mode("overwrite")
        .option("partitionOverwriteMode", "static")
        .partitionBy("processed_date")
        .parquet(output_path)
    )


def build_run_summary(
    *,
    rows_in: int,
    rejected: dict[str, int],
    release_version: str,
    job_name: str,
    run_id: str,
    processed_date: date,
) -> dict[str, Any]:
    """The run summary: rows read, written and rejected (by reason), release and run."""
    unknown = sorted(set(rejected) - set(REJECTION_REASONS))
    if unknown:
        raise ValueError(f"unknown rejection reason(s) {', '.join(unknown)}; allowed: {', '.join(REJECTION_REASONS)}")
    rows_rejected = sum(rejected.values())
    if rows_rejected > rows_in:
        raise ValueError(f"{rows_rejected} rows rejected out of {rows_in} read")
    return {
        "job_name": job_name,
        "run_id": run_id,
        "release_version": release_version,
        "processed_date": processed_date.isoformat(),
        "rows_in": rows_in,
        "rows_out": rows_in - rows_rejected,
        "rows_rejected": rows_rejected,
        "rejected_by_reason": {reason: rejected.get(reason, 0) for reason in REJECTION_REASONS},
    }


def write_run_summary(s3_client, summary: dict[str, Any], summary_path: str, run_id: str) -> str:
    """Put ``summary`` as JSON at ``<summary_path><run_id>.json`` and return that object's URI.

    :param summary_path: an ``s3://bucket/prefix/`` URI.
    """
    bucket, _, prefix = summary_path.removeprefix("s3://").partition("/")
    if not summary_path.startswith("s3://") or not bucket:
        raise ValueError(f"--summary_path must be an s3://bucket/prefix/ URI, got {summary_path!r}")
    key = f"{prefix.rstrip('/')}/{run_id}.json" if prefix.strip("/") else f"{run_id}.json"
    s3_client.put_object(Bucket=bucket, Key=key, Body=_summary_json(summary), ContentType="application/json")
    return f"s3://{bucket}/{key}"


def write_run_summary_file(summary: dict[str, Any], folder: str, run_id: str) -> Path:
    """Write ``summary`` to ``<folder>/<run_id>.json``: for local runs given a folder, not an S3 URI."""
    path = Path(folder, f"{run_id}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_summary_json(summary))
    return path


def _summary_json(summary: dict[str, Any]) -> bytes:
    return json.dumps(summary, indent=2).encode()
