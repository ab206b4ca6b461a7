"""The Glue path keeps the Airflow worker's memory flat, whatever the dataset's size.

On the emulator, a generation of prod's ``clean_sales`` (``--rows`` rows, all valid, in daily
Parquet files of 1,000,000 rows) is audited by the audit task (``QualityGateOperator``), each
time in a fresh worker process, three ways: in-process (the worker reads the data and runs the
suite on pandas), and through the checks job (the worker lists the files, starts the job and
waits for it; the job reads the data on local Spark) on the whole generation and on a tenth of
it. The worker's peak RSS is its own (``wait4``); the checks job's is the peak of its process tree
(Python driver and Spark's JVM), sampled every 0.2 s. Both paths must give the same verdict.

Target: the worker's peak on the Glue path within 1.2x between the tenth and the whole
generation (flat), and below the in-process path's peak on the whole generation.

    .venv/bin/python -m bench.distributed_audit [--rows 20000000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import dev  # noqa: F401 - puts plugins/ and glue_jobs/ on sys.path
from dev import LOCAL_ENVIRONMENTS, PROJECT_DIR
from dev.emulator import ProjectEmulator, aws_connection
from glue_cicd.generations import generation_uri
from glue_cicd.spec import load_environments, load_jobs
from local_aws.bootstrap import client

DAY = date(2026, 11, 1)
FILE_ROWS = 1_000_000
STATUSES = pa.array(["completed", "pending", "refunded", "cancelled"])


def day_rows(day: date, start: int, rows: int) -> pa.Table:
    """Valid clean sales of one processed day, built column-wise (the partition is the folder)."""
    ids = pa.array(np.arange(start, start + rows))
    sold = datetime(day.year, day.month, day.day, 12)
    return pa.table(
        {
            "sale_id": pc.binary_join_element_wise("S", pc.cast(ids, pa.string()), ""),
            "customer_id": pc.binary_join_element_wise("C", pc.cast(pc.bit_wise_and(ids, 4095), pa.string()), ""),
            "product_id": pc.binary_join_element_wise("P", pc.cast(pc.bit_wise_and(ids, 255), pa.string()), ""),
            "amount": pa.array(10.0 + (np.arange(rows) % 900) / 10),
            "status": STATUSES.take(pa.array(np.arange(rows) % 4)),
            "sold_at": pa.array(np.full(rows, np.datetime64(sold, "us")), pa.timestamp("us", tz="UTC")),
            "sale_date": pa.array(np.full(rows, np.datetime64(day, "D")), pa.date32()),
        }
    )


def write_generation(s3, base: str, generation: str, rows: int) -> None:
    bucket, _, prefix = generation_uri(base, generation).removeprefix("s3://").partition("/")
    for n, start in enumerate(range(0, rows, FILE_ROWS)):
        body = io.BytesIO()
        pq.write_table(day_rows(DAY + timedelta(days=n), start, min(FILE_ROWS, rows - start)), body)
        key = f"{prefix}processed_date={DAY + timedelta(days=n)}/part-0.parquet"
        s3.put_object(Bucket=bucket, Key=key, Body=body.getvalue())


def tree_rss(pid: int) -> int:
    """The RSS of ``pid``'s descendants (the emulator's job runs), in bytes."""
    import psutil

    total = 0
    for child in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a process that ended meanwhile
            total += child.memory_info().rss
    return total


def audit(config: Path, artifact: dict, generation: str, emulator_pid: int) -> dict:
    """Run the audit task in a fresh worker process; its verdict, its peak RSS and the job runs'."""
    env = {**os.environ, "GLUE_CICD_ENVIRONMENTS_FILE": str(config)}
    command = [sys.executable, "-m", "bench.distributed_audit", "--worker", json.dumps([artifact, generation])]
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(emulator_pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    output = process.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the audit task failed: {output[-2000:]}")
    result = json.loads(output.strip().splitlines()[-1])
    return {"result": result, "worker": usage.ru_maxrss * 1024, "job": peak[0], "seconds": seconds}


def worker(arguments: str) -> None:
    """The audit task, as a worker runs it (its deferral awaited in-process, as the triggerer would)."""
    from types import SimpleNamespace

    from glue_cicd.operators.quality import QualityGateOperator

    artifact, generation = json.loads(arguments)
    sys.path.insert(0, str(PROJECT_DIR / "tests"))
    from support.context import context
    from support.deferral import run_deferrable

    task = QualityGateOperator(task_id="audit", job="process_sales_data", environment="prod",
                               artifact=artifact, generation=generation)  # fmt: skip
    ctx = context()
    ctx["dag_run"] = SimpleNamespace(triggering_user_name="bench", run_after=datetime.now())
    (result,) = run_deferrable(task, ctx, timeout=3600)
    keys = ("success", "evaluated", "passed", "failed", "row_count", "checked_by")
    print(json.dumps({k: result.get(k) for k in keys}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    os.environ.setdefault("GLUE_CICD_ENVIRONMENTS_FILE", str(LOCAL_ENVIRONMENTS))
    os.environ.setdefault("AIRFLOW_HOME", f"/tmp/bench-distributed-audit-{uuid.uuid4().hex[:6]}")
    folder = Path(tempfile.mkdtemp(prefix="bench-distributed-audit-"))
    configs = {}
    for path, rows in (("in-process", None), ("checks job", 1)):
        configs[path] = folder / f"{path.replace(' ', '-')}.yaml"
        thresholds = "  min_rows: null\n  min_bytes: null\n" if rows is None else f"  min_rows: {rows}\n"
        configs[path].write_text(LOCAL_ENVIRONMENTS.read_text() + "distributed_checks:\n" + thresholds)
    with ProjectEmulator() as emulator:
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(aws_connection(emulator.endpoint_url))
        from glue_cicd.build import package_job
        from glue_cicd.hooks.artifacts import ArtifactStoreHook

        environments = load_environments()
        prod = environments["prod"]
        specs, _ = load_jobs(environments=environments)
        base = specs["process_sales_data"].output("clean_sales").path_in(prod)
        s3 = client("s3", emulator.endpoint_url, prod.region)
        artifact, _ = ArtifactStoreHook(aws_conn_id="aws_default").publish(
            package_job("process_sales_data"), prod.artifact_bucket
        )
        whole, tenth = "20261201T000000-aaaaaa", "20261201T000000-bbbbbb"
        write_generation(s3, base, whole, args.rows)
        write_generation(s3, base, tenth, args.rows // 10)
        pid = emulator._process.pid
        runs = {
            f"checks job, {args.rows // 10:,} rows": audit(configs["checks job"], artifact.to_dict(), tenth, pid),
            f"checks job, {args.rows:,} rows": audit(configs["checks job"], artifact.to_dict(), whole, pid),
            f"in-process, {args.rows:,} rows": audit(configs["in-process"], artifact.to_dict(), whole, pid),
        }
    gib = 1024**3
    for name, run in runs.items():
        job = f", checks job {run['job'] / gib:.2f} GiB" if run["job"] else ""
        print(f"{name}: worker peak RSS {run['worker'] / gib:.2f} GiB{job}; {run['seconds']:.0f} s; "
              f"verdict {run['result']}")  # fmt: skip
    small, large, local = runs.values()
    verdict = ("success", "evaluated", "passed", "failed", "row_count")
    flat = large["worker"] / small["worker"]
    print(f"worker peak, checks job path, whole / tenth: {flat:.2f}x (target <= 1.2x); "
          f"in-process / checks job on the whole: {local['worker'] / large['worker']:.1f}x")  # fmt: skip
    if any(large["result"][k] != local["result"][k] for k in verdict):
        raise SystemExit("the two paths gave different verdicts on the same data")
    if flat > 1.2 or large["worker"] >= local["worker"]:
        raise SystemExit("target missed: the worker's memory grows with the data on the Glue path")


if __name__ == "__main__":
    main()
