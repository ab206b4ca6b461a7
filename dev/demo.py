"""``make demo``: write-audit-publish releases on the embedded default (local AWS emulator, SQLite
Airflow), with ``airflow dags test`` (the approval task marked successful, which the local
environments config allows):

1. the first releases of ``process_sales_data``, ``daily_sales_summary`` and ``customer_daily_spend``
   (a script written against AWS's ``awsglue`` API, run offline by ``local_runtime/awsglue``);
2. a change to process_sales_data (amounts rounded up to whole units): its shadow run on prod's
   inputs is diffed against the published table, and the approval shows the diff;
3. a release on a day prod's input holds only invalid records: the shadow output is empty, its
   audit fails before anyone is asked, and consumers keep reading the published data;
4. a rollback of process_sales_data to its first release: the catalog points back at that
   release's data generation, and prod runs its code again.

Finally it prints what prod runs and which generation consumers read, per job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dev import LOCAL_ENVIRONMENTS, PROJECT_DIR
from dev.emulator import ProjectEmulator
from dev.local_airflow import airflow_env, dag_run_state, dags_test_command, migrate, task_times, xcom_value
from glue_cicd.paths import JOBS_DIR

STATE_DIR = PROJECT_DIR / ".local" / "demo"
APPROVAL = "^approval$"
# The job's own tests pin amounts to cents, so the demo skips the test stage for the rounding
# change (as a change whose tests were not updated yet) to show what the data diff tells a reviewer.
SKIP_TESTS = "^(test|approval)$"
# A change of process_sales_data: amounts rounded up to whole units (valid data, visible in the diff).
ROUNDED = (
    "transform_data(raw, processed_date)",
    "transform_data(raw, processed_date).withColumn('amount', F.ceil('amount').cast('double'))",
)
# A change the quality gate on staging blocks (tests: ``test_the_quality_gate_blocks_a_broken_change``).
BROKEN = ("transform_data(raw, processed_date)", "raw.withColumn('processed_date', F.lit(processed_date))")
PROD_DATA = "glue-cicd-data-prod-123456789012"


def release(dag_id: str, env: dict[str, str], log: Path, mark: str | None = APPROVAL) -> tuple[bool, float]:
    """Run one DAG (a release, by default its approval marked) with ``airflow dags test``; return
    success and wall time."""
    started = time.monotonic()
    with log.open("w") as out:
        subprocess.run(
            dags_test_command(dag_id, mark_success=mark),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=1800,
        )
    return dag_run_state(Path(env["AIRFLOW_HOME"]), dag_id) == "success", time.monotonic() - started


def report(airflow_home: Path, dag_id: str, ok: bool, seconds: float, log: Path) -> None:
    print(f"\n{dag_id}: {'succeeded' if ok else 'FAILED'} in {seconds:.0f} s (log: {log})")
    for task, state, task_seconds in task_times(airflow_home, dag_id):
        print(f"  {task:<18} {state:<16} {task_seconds:6.1f} s")


def changed_jobs_dir(workdir: Path, change: tuple[str, str] = BROKEN) -> Path:
    """A copy of the job sources with ``change`` (old, new) applied to process_sales_data's job.py."""
    target = workdir / "glue_jobs"
    shutil.copytree(JOBS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    script = target / "process_sales_data" / "job.py"
    source = script.read_text()
    if change[0] not in source:
        raise SystemExit(f"demo: cannot apply the change, {script.name} no longer calls {change[0]}")
    source = source.replace(change[0], change[1])
    script.write_text("from pyspark.sql import functions as F\n" + source)
    return target


def broken_jobs_dir(workdir: Path) -> Path:
    """A copy of the job sources with the broken change applied to process_sales_data."""
    return changed_jobs_dir(workdir, BROKEN)


def hooks(env: dict[str, str]):
    """The ledger and prod's catalog and artifact store, through the connection Airflow used."""
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = env["AIRFLOW_CONN_AWS_DEFAULT"]
    # Before Airflow is imported: its logging set-up reads the levels once (a logger's own level is reset).
    os.environ.setdefault(
        "AIRFLOW__LOGGING__NAMESPACE_LEVELS", "airflow.providers.amazon.aws.utils.connection_wrapper=WARNING"
    )
    from glue_cicd.hooks.artifacts import ArtifactStoreHook
    from glue_cicd.hooks.catalog import CatalogHook
    from glue_cicd.hooks.ledger import LedgerHook
    from glue_cicd.spec import load_environments, load_jobs

    environments = load_environments(LOCAL_ENVIRONMENTS)
    specs, _ = load_jobs(environments=environments)
    prod = environments["prod"]
    ledger = LedgerHook(aws_conn_id=prod.aws_conn_id, region_name=prod.region, table=environments.ledger_table)
    catalog = CatalogHook(aws_conn_id=prod.aws_conn_id, region_name=prod.region)
    store = ArtifactStoreHook(aws_conn_id=prod.aws_conn_id, region_name=prod.region)
    return prod, specs, ledger, catalog, store


def consumers_read(env: dict[str, str], job: str) -> dict[str, str]:
    """Each output table of ``job`` in prod's catalog -> the generations its data lies in."""
    from glue_cicd.generations import generation_of

    prod, specs, _, catalog, _ = hooks(env)
    read = {}
    for output in specs[job].datasets.outputs:
        table = catalog.table(prod.catalog_database, output.name)
        if table is None:
            read[output.name] = "not published"
            continue
        locations = [table["StorageDescriptor"]["Location"]]
        if table.get("PartitionKeys"):
            locations = list(catalog.partition_locations(prod.catalog_database, output.name).values())
        read[output.name] = ", ".join(sorted({str(generation_of(loc)) for loc in locations}))
    return read


def invalid_prod_input(env: dict[str, str]) -> dict[str, bytes]:
    """Replace prod's raw sales with one file of invalid records; return what to put back."""
    _, _, _, _, store = hooks(env)
    s3 = store.conn
    saved = {}
    for obj in s3.list_objects_v2(Bucket=PROD_DATA, Prefix="raw/sales/").get("Contents", []):
        saved[obj["Key"]] = s3.get_object(Bucket=PROD_DATA, Key=obj["Key"])["Body"].read()
        s3.delete_object(Bucket=PROD_DATA, Key=obj["Key"])
    header = "sale_id,customer_id,product_id,amount,status,sold_at"
    s3.put_object(Bucket=PROD_DATA, Key="raw/sales/bad.csv", Body=f"{header}\nS-bad,C1,P1,-5,completed,\n".encode())
    return saved


def restore_prod_input(env: dict[str, str], saved: dict[str, bytes]) -> None:
    _, _, _, _, store = hooks(env)
    store.conn.delete_object(Bucket=PROD_DATA, Key="raw/sales/bad.csv")
    for key, body in saved.items():
        store.conn.put_object(Bucket=PROD_DATA, Key=key, Body=body)


def live_in_prod(env: dict[str, str]) -> None:
    """What prod runs per job (the ledger) and which generations consumers read (the catalog)."""
    _, specs, ledger, _, _ = hooks(env)
    print("\nLive in prod:")
    for job in specs:
        live = ledger.live(job, "prod")
        if live is None:
            print(f"  {job:<22} nothing released")
        else:
            print(f"  {job:<22} {live.version}  {live.outcome:<11} {live.kind:<9} {live.at}")
        for table, generations in consumers_read(env, job).items():
            print(f"  {'':<22} consumers of {table} read generation {generations}")


def main() -> int:
    shutil.rmtree(STATE_DIR, ignore_errors=True)  # the emulator starts empty, so Airflow does too
    STATE_DIR.mkdir(parents=True)
    airflow_home = STATE_DIR / "airflow"
    dag_id = "release__process_sales_data"
    print("Starting the local AWS emulator ...")
    with ProjectEmulator(log_file=STATE_DIR / "emulator.log") as emulator, tempfile.TemporaryDirectory() as workdir:
        env = airflow_env(airflow_home, emulator.endpoint_url)
        print(f"Emulator on {emulator.endpoint_url}; preparing Airflow's metadata database in {airflow_home} ...")
        migrate(env)
        checks = []
        for job in ("process_sales_data", "daily_sales_summary", "customer_daily_spend"):
            print(f"\n[1] Releasing {job} (airflow dags test release__{job}) ...", flush=True)
            ok, seconds = release(f"release__{job}", env, STATE_DIR / f"release__{job}.log")
            report(airflow_home, f"release__{job}", ok, seconds, STATE_DIR / f"release__{job}.log")
            checks.append(ok)
        _, _, ledger, _, _ = hooks(env)
        first = ledger.live("process_sales_data", "prod")
        first_data = consumers_read(env, "process_sales_data")

        print(
            "\n[2] Releasing a change of process_sales_data (amounts rounded up): the approval shows the data diff ..."
        )
        rounded = {**env, "GLUE_CICD_JOBS_DIR": str(changed_jobs_dir(Path(workdir) / "rounded", ROUNDED))}
        log = STATE_DIR / "release__process_sales_data.rounded.log"
        ok, seconds = release(dag_id, rounded, log, mark=SKIP_TESTS)
        report(airflow_home, dag_id, ok, seconds, log)
        body = xcom_value(airflow_home, dag_id, "collect_evidence", "body") or ""
        diff = (
            body[body.find("#### Data diff") :].split("\n### Job definition")[0] if "#### Data diff" in body else body
        )
        print("\n  The approval request showed:\n" + "\n".join(f"  | {line}" for line in diff.strip().splitlines()))
        checks.append(ok)

        print("\n[3] Releasing on a day prod's raw input holds only invalid records ...", flush=True)
        before = consumers_read(env, "process_sales_data")
        saved = invalid_prod_input(env)
        try:
            log = STATE_DIR / "release__process_sales_data.bad-input.log"
            ok, seconds = release(dag_id, rounded, log, mark=SKIP_TESTS)
        finally:
            restore_prod_input(env, saved)
        report(airflow_home, dag_id, ok, seconds, log)
        states = {task: state for task, state, _ in task_times(airflow_home, dag_id)}
        blocked = not ok and states.get("audit") == "failed" and consumers_read(env, "process_sales_data") == before
        print("  -> the shadow output failed its audit; consumers still read the published data"
              if blocked else "  -> NOT blocked as expected")  # fmt: skip
        checks.append(blocked)

        print(f"\n[4] Rolling process_sales_data back to its first release {first.version} ...", flush=True)
        log = STATE_DIR / "rollback_glue_job.log"
        started = time.monotonic()
        with log.open("w") as out:
            command = dags_test_command(
                "rollback_glue_job", mark_success=APPROVAL,
                conf={"job": "process_sales_data", "environment": "prod", "version": first.version},
            )  # fmt: skip
            subprocess.run(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=900
            )
        ok = dag_run_state(airflow_home, "rollback_glue_job") == "success"
        report(airflow_home, "rollback_glue_job", ok, time.monotonic() - started, log)
        restored = consumers_read(env, "process_sales_data") == first_data
        print(f"  -> consumers read generation {first_data.get('clean_sales')} again"
              if restored else "  -> data NOT restored as expected")  # fmt: skip
        checks.append(ok and restored)

        print("\n[5] A production run of the live release (airflow dags test run__process_sales_data) ...", flush=True)
        log = STATE_DIR / "run__process_sales_data.log"
        ok, seconds = release("run__process_sales_data", env, log, mark=None)
        report(airflow_home, "run__process_sales_data", ok, seconds, log)
        ran = ledger.runs("process_sales_data", "prod")
        read = consumers_read(env, "process_sales_data")["clean_sales"]
        published = ok and bool(ran) and ran[-1]["generation"] in read
        print(f"  -> audited, then published: consumers read generation {ran[-1]['generation']} for today's partition"
              if published else "  -> the run's generation was NOT published as expected")  # fmt: skip
        checks.append(published)
        live_in_prod(env)
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
