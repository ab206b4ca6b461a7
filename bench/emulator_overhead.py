"""Emulator overhead per Glue job run, beyond the Spark work itself.

Runs the same small Glue script (awsglue's ``GlueContext``, Spark reads and writes) N times
directly (``python script.py`` on local folders, ``local_runtime/`` on its PYTHONPATH) and N times
through the emulator (reading and writing its S3; ``StartJobRun`` until ``GetJobRun`` reports
SUCCEEDED, polling every 0.1 s), in one process, alternating, and prints the medians, the overhead and the ratio.
Target: overhead under 2 s.

    .venv/bin/python -m bench.emulator_overhead [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

from local_aws.executor import LOCAL_RUNTIME_DIR, command_environment
from local_aws.process import EmulatorProcess

SCRIPT = """
import sys
from awsglue.context import GlueContext
from pyspark.context import SparkContext
from pyspark.sql import functions as F
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
spark = GlueContext(SparkContext.getOrCreate()).spark_session
df = spark.read.csv(args["--input"], header=True, inferSchema=True)
df.groupBy("status").agg(F.sum("amount").alias("total")).write.mode("overwrite").parquet(args["--output"])
"""
ROWS = "\n".join(f"{i},{i % 97 + 1}.5,{('completed', 'pending', 'refunded')[i % 3]}" for i in range(20_000))
CSV = f"sale_id,amount,status\n{ROWS}\n".encode()


def direct(script: Path, workdir: Path) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(script), "--input", str(workdir / "in"), "--output", str(workdir / "out")],
        check=True,
        capture_output=True,
        env=command_environment([str(script.parent), str(LOCAL_RUNTIME_DIR)], "http://unused", "us-east-1"),
    )
    return time.monotonic() - started


def through_emulator(glue) -> float:
    started = time.monotonic()
    run_id = glue.start_job_run(JobName="bench")["JobRunId"]
    while True:
        run = glue.get_job_run(JobName="bench", RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING"):
            break
        time.sleep(0.1)
    if run["JobRunState"] != "SUCCEEDED":
        raise SystemExit(f"run failed: {run.get('ErrorMessage')}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as emulator:
        workdir = Path(tmp)
        (workdir / "in").mkdir()
        (workdir / "in" / "sales.csv").write_bytes(CSV)
        script = workdir / "job.py"
        script.write_text(SCRIPT)
        kwargs = {"endpoint_url": emulator.endpoint_url, "region_name": "us-east-1"}
        kwargs |= {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        s3, glue = boto3.client("s3", **kwargs), boto3.client("glue", **kwargs)
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="job.py", Body=SCRIPT.encode())
        s3.put_object(Bucket="bench", Key="in/sales.csv", Body=CSV)
        glue.create_job(
            Name="bench",
            Role="arn:aws:iam::123456789012:role/bench",
            Command={"Name": "glueetl", "ScriptLocation": "s3://bench/job.py"},
            DefaultArguments={"--input": "s3://bench/in/", "--output": "s3://bench/out/"},
        )
        direct(script, workdir)  # warm the OS caches for both paths
        plain, emulated = [], []
        for _ in range(args.runs):
            plain.append(direct(script, workdir))
            emulated.append(through_emulator(glue))
    p, e = statistics.median(plain), statistics.median(emulated)
    print(f"runs: {args.runs} each, alternating")
    print(f"direct PySpark run (median):     {p:6.2f} s   {sorted(round(x, 2) for x in plain)}")
    print(f"through the emulator (median):   {e:6.2f} s   {sorted(round(x, 2) for x in emulated)}")
    print(f"emulator overhead per run:       {e - p:6.2f} s   (target < 2 s)")
    print(f"ratio emulated / direct:         {e / p:6.2f}")


if __name__ == "__main__":
    main()
