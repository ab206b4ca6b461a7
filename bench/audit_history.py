"""A run's audit costs what the run wrote, not the table's history.

On the emulator, prod's ``clean_sales`` table is published with 1, then with 60, daily partitions
of history (``--rows`` rows each, one generation as a release leaves them). A run then writes one
new day into its own generation, and the two checks of a ``run__<job>`` DAG are timed, as the
run DAG's tasks make them: the audit (the run's generation, read from S3 and validated with the
``clean_sales`` suite) and the post-publish check (the partitions the generation wrote, read where
the catalog points consumers). The two table sizes alternate in one process after a warm-up
(median of ``--repetitions``).

Target: the 60-partition table within 1.2x of the 1-partition one, for each check.

    .venv/bin/python -m bench.audit_history [--rows 100000] [--repetitions 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import time
import uuid
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

import dev  # noqa: F401 - puts plugins/ and glue_jobs/ on sys.path
from dev import LOCAL_ENVIRONMENTS
from dev.emulator import ProjectEmulator, aws_connection
from glue_cicd.generations import generation_uri
from glue_cicd.spec import load_environments, load_jobs
from local_aws.bootstrap import client

DAY = date(2026, 11, 1)


def day_rows(day: date, rows: int) -> pa.Table:
    """One processed day of clean sales, all valid (the partition column is in the folder name)."""
    sold = datetime(day.year, day.month, day.day, 12)
    return pa.table(
        {
            "sale_id": [f"S{day:%m%d}{i:07d}" for i in range(rows)],
            "customer_id": [f"C{i % 5000:05d}" for i in range(rows)],
            "product_id": [f"P{i % 300:04d}" for i in range(rows)],
            "amount": [10.0 + i % 900 / 10 for i in range(rows)],
            "status": ["completed", "pending", "refunded", "cancelled"] * (rows // 4) + ["completed"] * (rows % 4),
            "sold_at": pa.array([sold] * rows, pa.timestamp("us", tz="UTC")),
            "sale_date": pa.array([day] * rows, pa.date32()),
        }
    )


def write_generation(s3, base: str, generation: str, days: list[date], rows: int) -> None:
    bucket, _, prefix = generation_uri(base, generation).removeprefix("s3://").partition("/")
    for day in days:
        body = io.BytesIO()
        pq.write_table(day_rows(day, rows), body)
        s3.put_object(Bucket=bucket, Key=f"{prefix}processed_date={day}/part-0.parquet", Body=body.getvalue())


def publish(glue, database: str, table: str, base: str, generation: str, days: list[date]) -> None:
    """The table with ``days`` published in ``generation`` (replacing any earlier table)."""
    with contextlib.suppress(glue.exceptions.EntityNotFoundException):
        glue.delete_table(DatabaseName=database, Name=table)
    columns = [{"Name": n, "Type": t} for n, t in (("sale_id", "string"), ("customer_id", "string"),
               ("product_id", "string"), ("amount", "double"), ("status", "string"), ("sold_at", "timestamp"),
               ("sale_date", "date"))]  # fmt: skip
    descriptor = {
        "Columns": columns, "Location": base,
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    }  # fmt: skip
    glue.create_table(
        DatabaseName=database,
        TableInput={"Name": table, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": descriptor,
                    "PartitionKeys": [{"Name": "processed_date", "Type": "date"}]},
    )  # fmt: skip
    add_partitions(glue, database, table, descriptor, base, generation, days)


def add_partitions(glue, database, table, descriptor, base, generation, days) -> None:
    for start in range(0, len(days), 100):
        partitions = [
            {"Values": [str(d)], "StorageDescriptor": dict(descriptor, Location=generation_uri(base, generation)
                                                           + f"processed_date={d}/")}
            for d in days[start : start + 100]
        ]  # fmt: skip
        glue.batch_create_partition(DatabaseName=database, TableName=table, PartitionInputList=partitions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per daily partition")
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("GLUE_CICD_ENVIRONMENTS_FILE", str(LOCAL_ENVIRONMENTS))
    os.environ.setdefault("AIRFLOW_HOME", f"/tmp/bench-audit-history-{uuid.uuid4().hex[:6]}")
    with ProjectEmulator() as emulator:
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(aws_connection(emulator.endpoint_url))
        from glue_cicd import datasets
        from glue_cicd.hooks.catalog import CatalogHook
        from glue_cicd.quality import validate_table

        environments = load_environments()
        prod = environments["prod"]
        specs, _ = load_jobs(environments=environments)
        output = specs["process_sales_data"].output("clean_sales")
        base = output.path_in(prod)
        s3, glue = client("s3", emulator.endpoint_url, prod.region), client("glue", emulator.endpoint_url, prod.region)
        catalog = CatalogHook(aws_conn_id=prod.aws_conn_id, region_name=prod.region)

        history = [DAY + timedelta(days=i) for i in range(60)]
        released = "20261101T000000-aaaaaa"
        write_generation(s3, base, released, history, args.rows)
        run_day = history[-1] + timedelta(days=1)
        run_generation = "20261231T000000-bbbbbb"
        write_generation(s3, base, run_generation, [run_day], args.rows)

        def checks(size: int) -> tuple[float, float, int]:
            publish(glue, prod.catalog_database, output.name, base, released, history[-size:])
            descriptor = glue.get_table(DatabaseName=prod.catalog_database, Name=output.name)["Table"][
                "StorageDescriptor"
            ]
            add_partitions(glue, prod.catalog_database, output.name, descriptor, base, run_generation, [run_day])
            start = time.perf_counter()
            audited = datasets.read_generation(s3, output, prod, run_generation)
            result = validate_table(audited, output.suite, dataset="audit")
            audit = time.perf_counter() - start
            assert result.success, result.summary()
            start = time.perf_counter()
            published = datasets.read_published_generation(s3, catalog, prod, output, run_generation)
            assert validate_table(published, output.suite, dataset="verify").success
            verify = time.perf_counter() - start
            return audit, verify, audited.num_rows

        sizes = (1, 60)
        for size in sizes:
            checks(size)  # warm-up
        timings: dict[int, list[tuple[float, float, int]]] = {size: [] for size in sizes}
        for _ in range(args.repetitions):
            for size in sizes:
                timings[size].append(checks(size))

    print(f"run's generation: 1 partition of {args.rows:,} rows; history: 1 or 60 partitions of {args.rows:,} rows")
    medians = {}
    for size in sizes:
        audit = statistics.median(t[0] for t in timings[size])
        verify = statistics.median(t[1] for t in timings[size])
        medians[size] = (audit, verify)
        print(f"{size:>2} historical partitions: audit {audit:.3f} s, post-publish check {verify:.3f} s "
              f"({timings[size][0][2]:,} rows read)")  # fmt: skip
    audit_ratio, verify_ratio = (medians[60][i] / medians[1][i] for i in (0, 1))
    print(f"ratio 60/1: audit {audit_ratio:.2f}x, post-publish check {verify_ratio:.2f}x (target <= 1.2x)")
    if max(audit_ratio, verify_ratio) > 1.2:
        raise SystemExit("target missed: a run's checks cost more with more history")


if __name__ == "__main__":
    main()
