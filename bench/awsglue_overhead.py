"""The local awsglue runtime's cost: one transformation as DynamicFrames against the same in plain PySpark.

Generates, deterministically, a sales dataset (``--rows``, 1,000,000 by default) as Parquet in a
temporary folder. Then, alternating in one SparkSession (best of ``--repetitions``), the same job
is run both ways and writes Parquet partitioned by ``status``:

- **plain PySpark**: ``spark.read.parquet``, a ``select`` that renames, casts and drops fields
  (what ``ApplyMapping`` does), a rename of one field, a cast of one more, then
  ``groupBy(customer_id, sale_date, status)`` with a count and a sum, written with
  ``partitionBy``;
- **DynamicFrames**: ``create_dynamic_frame.from_options`` (parquet), ``ApplyMapping``,
  ``RenameField``, ``ResolveChoice`` (``cast:``), ``toDF`` for the aggregation, ``fromDF`` and
  ``write_dynamic_frame.from_options`` with ``partitionKeys``.

The outputs are checked equal. Target: the DynamicFrame job within 1.1x of plain PySpark.

    .venv/bin/python -m bench.awsglue_overhead [--rows 1000000] [--repetitions 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import dev  # puts plugins/ and glue_jobs/ on sys.path

sys.path.append(str(dev.PROJECT_DIR / "local_runtime"))  # the awsglue runtime, as in the emulator's runs

MAPPINGS = [
    ("sale_id", "string", "sale_id", "string"),
    ("customer_id", "string", "customer_id", "string"),
    ("amount", "string", "amount", "double"),
    ("status", "string", "status", "string"),
    ("sold_at", "timestamp", "sale_date", "date"),
]


def generate(spark, rows: int, folder: Path) -> None:
    from pyspark.sql import functions as F

    statuses = F.array(*(F.lit(s) for s in ("completed", "pending", "refunded", "cancelled")))
    (
        spark.range(rows)
        .select(
            F.format_string("S%08d", "id").alias("sale_id"),
            F.format_string("C%05d", F.col("id") * 7919 % 50_000).alias("customer_id"),
            F.format_string("P%04d", F.col("id") * 104_729 % 2_000).alias("product_id"),
            F.format_string("%.2f", (F.col("id") * 31 % 50_000) / 100 + 1).alias("amount"),
            statuses[(F.col("id") * 13 % 4).cast("int")].alias("status"),
            (F.lit(1_790_000_000) + F.col("id") * 37 % 31_536_000).cast("timestamp").alias("sold_at"),
            F.lit("raw").alias("source"),
        )
        .repartition(8)
        .write.parquet(str(folder))
    )


def plain(spark, source: Path, target: Path) -> None:
    from pyspark.sql import functions as F

    df = spark.read.parquet(str(source))
    mapped = df.select(*(F.col(s).cast(t2).alias(t) for s, _, t, t2 in MAPPINGS))
    renamed = mapped.withColumnRenamed("customer_id", "customer").withColumn("amount", F.col("amount").cast("double"))
    daily = renamed.groupBy("customer", "sale_date", "status").agg(
        F.count(F.lit(1)).alias("orders"), F.round(F.sum("amount"), 2).alias("total")
    )
    daily.write.mode("append").partitionBy("status").parquet(str(target))


def dynamic(glue_context, source: Path, target: Path) -> None:
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.transforms import ApplyMapping, RenameField, ResolveChoice
    from pyspark.sql import functions as F

    frame = glue_context.create_dynamic_frame.from_options(
        connection_type="s3", connection_options={"paths": [str(source)]}, format="parquet"
    )
    mapped = ApplyMapping.apply(frame=frame, mappings=MAPPINGS)
    renamed = RenameField.apply(frame=mapped, old_name="customer_id", new_name="customer")
    typed = ResolveChoice.apply(frame=renamed, specs=[("amount", "cast:double")])
    daily = (
        typed.toDF()
        .groupBy("customer", "sale_date", "status")
        .agg(F.count(F.lit(1)).alias("orders"), F.round(F.sum("amount"), 2).alias("total"))
    )
    glue_context.write_dynamic_frame.from_options(
        frame=DynamicFrame.fromDF(daily, glue_context, "daily"),
        connection_type="s3",
        connection_options={"path": str(target), "partitionKeys": ["status"]},
        format="parquet",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repetitions", type=int, default=3)
    options = parser.parse_args()

    from awsglue.context import GlueContext

    from glue_runtime import local_spark_session

    spark = local_spark_session("awsglue-overhead")
    glue_context = GlueContext(spark.sparkContext)
    work = Path(tempfile.mkdtemp(prefix="awsglue-bench-"))
    try:
        source = work / "sales"
        generate(spark, options.rows, source)
        times: dict[str, list[float]] = {"plain PySpark": [], "DynamicFrames": []}
        for i in range(options.repetitions + 1):  # the first round warms the JVM up and is not counted
            for name, run in (("plain PySpark", lambda t: plain(spark, source, t)),
                              ("DynamicFrames", lambda t: dynamic(glue_context, source, t))):  # fmt: skip
                target = work / f"{name.split()[0]}-{i}"
                started = time.perf_counter()
                run(target)
                if i:
                    times[name].append(time.perf_counter() - started)
        first = sorted(spark.read.parquet(str(work / "plain-1")).collect())
        assert first == sorted(spark.read.parquet(str(work / "DynamicFrames-1")).collect()), "outputs differ"
        best = {name: min(values) for name, values in times.items()}
        print(f"{options.rows:,} rows, best of {options.repetitions} (wall seconds):")
        for name, seconds in best.items():
            print(f"  {name:14} {seconds:7.2f}  (all: {', '.join(f'{s:.2f}' for s in times[name])})")
        ratio = best["DynamicFrames"] / best["plain PySpark"]
        print(f"DynamicFrames / plain PySpark: {ratio:.2f}x (target <= 1.1x)")
        return 0
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
