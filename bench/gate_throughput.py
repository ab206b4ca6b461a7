"""Quality gate throughput on 1 million rows of process_sales_data output.

Generates raw sales rows (all valid), runs the real process_sales_data job on them with local
PySpark, uploads its Parquet output to the emulator's S3, then times, alternating in one process
after one warm-up each (median of ``--repetitions``):

- the gate: ``validate_s3_dataset`` with the ``clean_sales`` suite, as the audit tasks do;
- the baseline: the same objects read with boto3 (in parallel, as the gate does) + pyarrow and
  the suite's 20 checks written as plain vectorised pandas.

Target: the gate within 2x of the baseline.

    .venv/bin/python -m bench.gate_throughput [--rows 1000000] [--repetitions 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import dev  # noqa: F401 - puts plugins/ and glue_jobs/ on sys.path
from glue_cicd.paths import JOBS_DIR
from glue_cicd.quality import MAX_DOWNLOADS, validate_s3_dataset
from local_aws.bootstrap import client
from local_aws.process import EmulatorProcess
from process_sales_data.tests.sample_data import generate_rows, to_csv

BUCKET, PREFIX = "bench-gate", "curated/sales/"
COLUMNS = ["sale_id", "customer_id", "product_id", "amount", "status", "sold_at", "sale_date", "processed_date"]
STATUSES = ["completed", "pending", "refunded", "cancelled"]


def job_output(rows: int, workdir: Path) -> Path:
    """Run process_sales_data on ``rows`` generated rows; return its local output folder."""
    (workdir / "raw").mkdir()
    (workdir / "raw" / "sales.csv").write_bytes(to_csv(generate_rows(rows, invalid_share=0)))
    argv = [sys.executable, str(JOBS_DIR / "process_sales_data" / "job.py"), "--JOB_NAME", "bench"]
    argv += ["--JOB_RUN_ID", "jr_bench", "--release_version", "bench", "--input_path", str(workdir / "raw")]
    argv += ["--output_path", str(workdir / "out"), "--summary_path", str(workdir / "summary")]
    # glue_runtime and the job's package are importable, as Glue ships them (libs.zip).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(JOBS_DIR), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode:
        raise SystemExit(f"process_sales_data failed (exit code {result.returncode}):\n{result.stderr[-3000:]}")
    return workdir / "out"


def upload(s3, folder: Path) -> int:
    s3.create_bucket(Bucket=BUCKET)
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    for path in files:
        s3.upload_file(str(path), BUCKET, PREFIX + path.relative_to(folder).as_posix())
    return len(files)


def baseline(s3) -> bool:
    """Read with boto3 + pyarrow, check with vectorised pandas: the 20 checks of clean_sales."""

    def read(key: str) -> pa.Table:
        table = pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))
        value = date.fromisoformat(key.split("processed_date=")[1].split("/")[0])
        return table.append_column("processed_date", pa.repeat(pa.scalar(value), len(table)))

    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX)
    keys = [obj["Key"] for page in pages for obj in page.get("Contents", [])]
    with ThreadPoolExecutor(max_workers=MAX_DOWNLOADS) as pool:  # fetched in parallel, as the gate does
        df = pa.concat_tables(list(pool.map(read, keys))).to_pandas(date_as_object=False)
    checks = [
        len(df) >= 1,
        set(df.columns) == set(COLUMNS),
        *(pd.api.types.is_string_dtype(df[c]) for c in ("sale_id", "customer_id", "product_id", "status")),
        df["amount"].dtype == "float64",
        pd.api.types.is_datetime64_any_dtype(df["sold_at"]),
        *(pd.api.types.is_datetime64_any_dtype(df[c]) for c in ("sale_date", "processed_date")),
        *(df[c].notna().all() for c in ("sale_id", "amount", "status", "sold_at", "sale_date", "processed_date")),
        df["sale_id"].is_unique,
        (df["amount"] > 0).all(),
        df["status"].isin(STATUSES).all(),
        (df["processed_date"] >= df["sale_date"]).all(),
    ]
    assert len(checks) == 20
    return all(bool(c) for c in checks)


def gate(s3) -> bool:
    return validate_s3_dataset(s3, f"s3://{BUCKET}/{PREFIX}", "parquet", "clean_sales").success


def timed(check, s3) -> float:
    started = time.perf_counter()
    if not check(s3):
        raise SystemExit(f"{check.__name__}: the data failed the checks")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as emulator:
        started = time.monotonic()
        output = job_output(args.rows, Path(tmp))
        print(f"process_sales_data on {args.rows:,} generated rows: {time.monotonic() - started:.1f} s")
        s3 = client("s3", emulator.endpoint_url, "us-east-1")
        files = upload(s3, output)
        size = sum(p.stat().st_size for p in output.rglob("*.parquet"))
        print(f"uploaded {files} Parquet files, {size / 2**20:.1f} MiB, to s3://{BUCKET}/{PREFIX}")
        timed(gate, s3), timed(baseline, s3)  # warm-up: imports, GX context, suite
        gates, baselines = [], []
        for _ in range(args.repetitions):
            gates.append(timed(gate, s3))
            baselines.append(timed(baseline, s3))
    g, b = statistics.median(gates), statistics.median(baselines)
    print(f"quality gate (validate_s3_dataset, 20 expectations): {g:6.2f} s  {sorted(round(x, 2) for x in gates)}")
    print(f"pyarrow + vectorised pandas, same 20 checks:         {b:6.2f} s  {sorted(round(x, 2) for x in baselines)}")
    print(f"gate / baseline: {g / b:.2f}x  (target <= 2x); {args.rows / g:,.0f} rows/s through the gate")


if __name__ == "__main__":
    main()
