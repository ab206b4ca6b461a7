"""Release lead time on the emulator against the irreducible work of a release.

Releases a job with ``airflow dags test`` (approval marked successful) on a fresh emulator loaded
with the project's stack and sample inputs, and SQLite Airflow, and prints the wall time per task
and in total. Then, on the same machine in the same run, times the irreducible work alone: the
job's own tests, the staging and the shadow Spark runs (the deployed script run directly on local
PySpark, with the same arguments on the same data, already local), and in one fresh Python
process (imports included) the Great Expectations validations (staging audit, shadow audit,
post-publish check) and the data diff of every output. Target: total within 1.3x of the
irreducible work.

Also measured in the same run: Airflow's own fixed cost of ``airflow dags test`` (a DAG of two
no-op tasks), and a second release of the same sources (the re-run after a rejection, say), where
the build is a no-op and the job's passing tests are reused.

    .venv/bin/python -m bench.release_lead_time [--job process_sales_data] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dev import LOCAL_ENVIRONMENTS, PROJECT_DIR
from dev.demo import release
from dev.emulator import ProjectEmulator
from dev.local_airflow import airflow_env, migrate, task_times
from glue_cicd.deploy import run_arguments
from glue_cicd.generations import generation_uri
from glue_cicd.spec import load_environments, load_jobs
from local_aws.bootstrap import client
from local_aws.executor import command_environment, prepare_command

NOOP_DAG = """
import pendulum
from airflow.sdk import DAG, task

with DAG("noop", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    @task
    def first():
        return 1

    @task
    def second(value):
        return value

    second(first())
"""
VALIDATE = """
import json, sys, time
import dev  # puts plugins/ on sys.path (run from the project root)
started = time.monotonic()
import boto3
from glue_cicd.data_diff import diff_tables
from glue_cicd.quality import read_locations, validate_s3_dataset
endpoint, region, datasets, diffs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region,
                  aws_access_key_id="testing", aws_secret_access_key="testing")
ok = all(validate_s3_dataset(s3, uri, fmt, suite).success for uri, fmt, suite in datasets)
for uri, fmt, key, partition_by in diffs:
    data = read_locations(s3, [(uri, {})], fmt)
    diff_tables(data, read_locations(s3, [(uri, {})], fmt), key=key, partition_by=partition_by)
print(json.dumps({"seconds": time.monotonic() - started, "success": ok}))
"""


def published_generation(s3, base: str) -> str:
    """The newest generation under a dataset path (the release's, in this fresh emulator)."""
    bucket, _, prefix = base.removeprefix("s3://").partition("/")
    found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix.rstrip("/") + "/_gen=", Delimiter="/")
    return sorted(p["Prefix"] for p in found.get("CommonPrefixes", []))[-1].rstrip("/").rsplit("_gen=", 1)[1]


def timed_release(dag_id: str, env: dict[str, str], log: Path) -> float:
    """Wall time of ``airflow dags test`` of ``dag_id`` with the approval marked; it must succeed."""
    ok, seconds = release(dag_id, env, log)
    if not ok:
        raise SystemExit(f"{dag_id} did not succeed; see {log}")
    return seconds


def direct_run(glue, s3, job_name: str, arguments: dict, endpoint: str, region: str, folder: Path) -> float:
    """One run of the deployed job's script on local PySpark, reading and writing the emulator's S3 itself."""
    definition = glue.get_job(JobName=job_name)["Job"]
    arguments = {**definition["DefaultArguments"], **arguments}
    argv, pythonpath = prepare_command(s3, definition, arguments, folder, job_name, "jr_bench")
    started = time.monotonic()
    subprocess.run(
        argv, cwd=folder / "work", env=command_environment(pythonpath, endpoint, region),
        stdin=subprocess.DEVNULL, capture_output=True, check=True,
    )  # fmt: skip
    return time.monotonic() - started


def job_tests(job: str, folder: Path) -> float:
    """The job's own pytest suite, run as the test stage runs it."""
    from glue_cicd.job_tests import run_job_tests
    from glue_cicd.paths import JOBS_DIR

    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    report, _, tail = run_job_tests(job, JOBS_DIR, folder)
    if report.failures or report.errors:
        raise SystemExit(f"{job}'s tests failed:\n{tail}")
    return time.monotonic() - started


def validations(datasets: list, diffs: list, endpoint: str, region: str, env: dict[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", VALIDATE, endpoint, region, json.dumps(datasets), json.dumps(diffs)],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    if not outcome["success"]:
        raise SystemExit("the validations timed alone failed")
    return outcome["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", default="process_sales_data")
    parser.add_argument("--keep", type=Path, help="keep logs and state in this folder")
    args = parser.parse_args()
    environments = load_environments(LOCAL_ENVIRONMENTS)  # the emulator's, as airflow_env() selects
    specs, _ = load_jobs(environments=environments)
    spec, dag_id = specs[args.job], f"release__{args.job}"
    with tempfile.TemporaryDirectory() as tmp:
        state = args.keep or Path(tmp)
        state.mkdir(parents=True, exist_ok=True)
        with ProjectEmulator(log_file=state / "emulator.log") as emulator:
            endpoint = emulator.endpoint_url
            env = airflow_env(state / "airflow", endpoint)
            migrate(env)
            total = timed_release(dag_id, env, state / f"{dag_id}.log")
            tasks = task_times(state / "airflow", dag_id)
            again = timed_release(dag_id, env, state / f"{dag_id}.again.log")
            again_tasks = dict((t, s) for t, _, s in task_times(state / "airflow", dag_id))
            (state / "noop").mkdir(exist_ok=True)
            (state / "noop" / "noop.py").write_text(NOOP_DAG)
            noop_env = {**env, "AIRFLOW__CORE__DAGS_FOLDER": str(state / "noop")}
            airflow_fixed = timed_release("noop", noop_env, state / "noop.log")

            region = environments["prod"].region
            glue, s3 = client("glue", endpoint, region), client("s3", endpoint, region)
            generation = "20260101T000000-000000"
            staging, prod = environments["staging"], environments["prod"]
            spark = {
                f"{name} ({job_name})": direct_run(
                    glue, s3, job_name, run_arguments(spec, env_, generation), endpoint, region, state / name
                )
                for name, env_, job_name in (
                    ("staging", staging, staging.glue_job_name(args.job)),
                    ("shadow", prod, prod.shadow_job_name(args.job)),
                )
            }
            tests = job_tests(args.job, state / "job-tests")
            released = [generation_uri(o.path_in(e), g) for e in (staging, prod) for o in spec.datasets.outputs
                        for g in [published_generation(s3, o.path_in(e))]]  # fmt: skip
            outputs = list(spec.datasets.outputs) * 2
            datasets = [(uri, o.format, o.suite) for uri, o in zip(released, outputs, strict=True)]
            datasets += datasets[len(spec.datasets.outputs) :]  # the post-publish check reads prod's again
            diffs = [(uri, o.format, o.key, o.partition_by) for uri, o in zip(released, outputs, strict=True)][
                len(spec.datasets.outputs) :
            ]
            gx = validations(datasets, diffs, endpoint, region, env)

    irreducible = sum(spark.values()) + gx + tests
    print(f"{dag_id} with airflow dags test (approval marked), per task (second release in brackets):")
    for task, task_state, seconds in tasks:
        print(f"  {task:<18} {task_state:<8} {seconds:6.1f} s  ({again_tasks.get(task, 0):5.1f} s)")
    in_tasks = sum(seconds for _, _, seconds in tasks)
    print(f"  {'(outside tasks)':<27} {total - in_tasks:6.1f} s  (dags test start-up, parsing, scheduling)")
    print(f"  {'total':<27} {total:6.1f} s  ({again:5.1f} s)")
    print(f"  Airflow's fixed cost: airflow dags test of a two no-op task DAG: {airflow_fixed:.1f} s")
    print("irreducible work, timed alone:")
    print(f"  job tests                   {tests:6.1f} s")
    for name, seconds in spark.items():
        print(f"  Spark run, {name:<40} {seconds:6.1f} s")
    print(f"  GX validations ({len(datasets)}) and data diffs ({len(diffs)}), fresh process: {gx:4.1f} s")
    print(f"  {'total':<27} {irreducible:6.1f} s")
    print(f"lead time / irreducible work: {total / irreducible:.2f}x  (target <= 1.3x)")
    print(f"  second release of the same sources: {again / irreducible:.2f}x")
    print(f"  first release without Airflow's fixed cost: {(total - airflow_fixed) / irreducible:.2f}x")


if __name__ == "__main__":
    main()
