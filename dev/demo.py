"""``make demo``: full releases on the embedded default (local AWS emulator, SQLite Airflow).

Releases ``process_sales_data`` then ``daily_sales_summary`` with ``airflow dags test`` (the
approval task marked successful, which the local environments config allows), then a release of
a deliberately broken change that the quality gate blocks, and prints what prod runs per job.
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
from dev.local_airflow import airflow_env, dag_run_state, dags_test_command, migrate, task_times
from glue_cicd.paths import JOBS_DIR

STATE_DIR = PROJECT_DIR / ".local" / "demo"
APPROVAL = "^approval$"
# A refactor of the entry script that writes the raw records instead of the validated ones. The
# job's own end-to-end test would catch it, so the demo skips the test stage for this release
# (as a change whose tests miss the problem) to show the quality gate on staging blocking it.
BROKEN_MARK = "^(test|approval)$"
BROKEN = ("transform_data(raw, processed_date)", "raw.withColumn('processed_date', F.lit(processed_date))")


def release(dag_id: str, env: dict[str, str], log: Path, mark: str = APPROVAL) -> tuple[bool, float]:
    """Run one release with ``airflow dags test``; return success and wall time."""
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


def broken_jobs_dir(workdir: Path) -> Path:
    """A copy of the job sources with the broken change applied to process_sales_data."""
    target = workdir / "glue_jobs"
    shutil.copytree(JOBS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    script = target / "process_sales_data" / "job.py"
    source = script.read_text()
    if BROKEN[0] not in source:
        raise SystemExit(f"demo: cannot apply the broken change, {script.name} no longer calls {BROKEN[0]}")
    source = source.replace(BROKEN[0], BROKEN[1])
    script.write_text("from pyspark.sql import functions as F\n" + source)
    return target


def live_in_prod(env: dict[str, str]) -> None:
    """What prod runs per job, read from the ledger through the same connection Airflow used."""
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = env["AIRFLOW_CONN_AWS_DEFAULT"]
    from glue_cicd.hooks.ledger import LedgerHook
    from glue_cicd.spec import load_environments, load_jobs

    environments = load_environments(LOCAL_ENVIRONMENTS)
    specs, _ = load_jobs(environments=environments)
    prod = environments["prod"]
    ledger = LedgerHook(aws_conn_id=prod.aws_conn_id, region_name=prod.region, table=environments.ledger_table)
    print("\nLive in prod, from the release ledger:")
    for job in specs:
        live = ledger.live(job, "prod")
        if live is None:
            print(f"  {job:<22} nothing released")
        else:
            print(f"  {job:<22} {live.version}  {live.outcome:<9} {live.at}  ({live.script_location})")


def main() -> int:
    shutil.rmtree(STATE_DIR, ignore_errors=True)  # the emulator starts empty, so Airflow does too
    STATE_DIR.mkdir(parents=True)
    airflow_home = STATE_DIR / "airflow"
    print("Starting the local AWS emulator ...")
    with ProjectEmulator(log_file=STATE_DIR / "emulator.log") as emulator:
        env = airflow_env(airflow_home, emulator.endpoint_url)
        print(f"Emulator on {emulator.endpoint_url}; preparing Airflow's metadata database in {airflow_home} ...")
        migrate(env)
        results = []
        for job in ("process_sales_data", "daily_sales_summary"):
            dag_id = f"release__{job}"
            log = STATE_DIR / f"{dag_id}.log"
            print(f"Releasing {job} (airflow dags test {dag_id}) ...", flush=True)
            ok, seconds = release(dag_id, env, log)
            report(airflow_home, dag_id, ok, seconds, log)
            results.append(ok)

        print("\nReleasing a broken change of process_sales_data: the quality gate must block it ...", flush=True)
        with tempfile.TemporaryDirectory() as workdir:
            broken_env = {**env, "GLUE_CICD_JOBS_DIR": str(broken_jobs_dir(Path(workdir)))}
            log = STATE_DIR / "release__process_sales_data.broken.log"
            ok, seconds = release("release__process_sales_data", broken_env, log, mark=BROKEN_MARK)
        report(airflow_home, "release__process_sales_data", ok, seconds, log)
        states = {task: state for task, state, _ in task_times(airflow_home, "release__process_sales_data")}
        blocked = not ok and states.get("quality_gate") == "failed"
        print("  -> blocked by the quality gate, prod untouched" if blocked else "  -> NOT blocked as expected")
        live_in_prod(env)
    return 0 if all(results) and blocked else 1


if __name__ == "__main__":
    sys.exit(main())
