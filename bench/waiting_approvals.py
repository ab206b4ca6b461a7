"""Waiting approvals hold no worker slot.

Starts ``airflow standalone`` (LocalExecutor) with a single worker slot (``core.parallelism = 1``)
and 20 release DAGs (generated copies of process_sales_data's spec). Runs a probe DAG (a chain of
short Python tasks) on the idle system, then parks 20 releases at their approval task, then runs
the probe again while they wait, and prints how long the probe and its tasks took each time.

Parking a release: the run is created with its DAG paused, the stages before the approval are
marked successful through the REST API with the XComs the approval renders (the subject and body
collect_evidence returns), then the DAG is unpaused, so the scheduler runs the real
ApprovalOperator, which parks the task in ``awaiting_input``. No AWS is involved. If a waiting
approval held the slot, the probe could not run (the wait for it times out after 10 minutes).

    .venv/bin/python -m bench.waiting_approvals [--releases 20] [--probes 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.parse_cost import write_jobs
from dev import PROJECT_DIR
from dev.local_airflow import AirflowApi, AirflowStandalone, airflow_env, free_port

PROBE_TASKS = 5
PROBE = f"""
import pendulum
from airflow.sdk import DAG, chain, task


@task
def work(step: int) -> int:
    return sum(i * i for i in range(2_000_000)) + step


with DAG("probe", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), max_active_runs=1):
    chain(*[work.override(task_id=f"step_{{i}}")(i) for i in range({PROBE_TASKS})])
"""


def seconds(start: str | None, end: str | None) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() if start and end else 0.0


def run_probe(api: AirflowApi) -> tuple[float, list[float], list[float]]:
    """One probe run: wall time from trigger to success, each task's duration, the gaps between tasks."""
    started = time.monotonic()
    run_id = api.call("POST", "/api/v2/dags/probe/dagRuns", {"logical_date": None})["dag_run_id"]
    state = api.wait(
        "the probe run", lambda: (s := api.call("GET", f"/api/v2/dags/probe/dagRuns/{run_id}")["state"]) in
        ("success", "failed") and s, interval=0.2,
    )  # fmt: skip
    wall = time.monotonic() - started
    if state != "success":
        raise SystemExit(f"the probe run {run_id} failed")
    tasks = api.call("GET", f"/api/v2/dags/probe/dagRuns/{run_id}/taskInstances")["task_instances"]
    tasks.sort(key=lambda t: t["start_date"])
    gaps = [seconds(a["end_date"], b["start_date"]) for a, b in zip(tasks, tasks[1:], strict=False)]
    return wall, [seconds(t["start_date"], t["end_date"]) for t in tasks], gaps


def settle(api: AirflowApi) -> None:
    """Wait until no task is queued or running (a deferring task's process takes a moment to exit)."""
    busy = "/api/v2/dags/~/dagRuns/~/taskInstances?state=queued&state=running&limit=1"
    api.wait("the worker to be idle", lambda: api.call("GET", busy)["total_entries"] == 0, interval=0.5)
    time.sleep(5)


def park(api: AirflowApi, dag_id: str) -> str:
    """A release run of ``dag_id`` (paused) whose stages before the approval are marked done."""
    base = f"/api/v2/dags/{dag_id}/dagRuns"
    run_id = api.call("POST", base, {"logical_date": None, "conf": {}})["dag_run_id"]
    api.call(
        "PATCH", f"{base}/{run_id}/taskInstances/collect_evidence",
        {"new_state": "success", "include_upstream": True},
    )  # fmt: skip
    evidence = {"subject": f"Promote {dag_id} 0123456789ab to prod?", "body": "### Evidence\n\nbenchmark run"}
    for key, value in evidence.items():  # collect_evidence's multiple outputs, one XCom per key
        xcom = {"key": key, "value": value}
        api.call("POST", f"{base}/{run_id}/taskInstances/collect_evidence/xcomEntries", xcom)
    return run_id


def approval_states(api: AirflowApi, runs: dict[str, str]) -> list[str]:
    path = "/api/v2/dags/{}/dagRuns/{}/taskInstances/approval"
    return [api.call("GET", path.format(dag, run))["state"] for dag, run in runs.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=20)
    parser.add_argument("--probes", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the Airflow home and logs in this (new) folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        write_jobs(root / "jobs", args.releases)
        (root / "dags").mkdir(exist_ok=True)
        (root / "dags" / "release_glue_jobs.py").unlink(missing_ok=True)
        (root / "dags" / "release_glue_jobs.py").symlink_to(PROJECT_DIR / "dags" / "release_glue_jobs.py")
        (root / "dags" / "probe.py").write_text(PROBE)
        env = airflow_env(root / "airflow", "http://127.0.0.1:9")  # nothing here calls AWS
        env.update(
            AIRFLOW__CORE__DAGS_FOLDER=str(root / "dags"),
            AIRFLOW__CORE__PARALLELISM="1",
            GLUE_CICD_JOBS_DIR=str(root / "jobs"),
        )
        server = AirflowStandalone(env, port=free_port()).start()
        try:
            api = AirflowApi(server.url, "admin", server.passwords()["admin"])
            dags = [f"release__job_{i:04d}" for i in range(args.releases)]
            for dag_id in ["probe", *dags]:
                api.wait(f"{dag_id} to be parsed", lambda d=dag_id: api.call("GET", f"/api/v2/dags/{d}"))
            api.call("PATCH", "/api/v2/dags/probe", {"is_paused": False})

            run_probe(api)  # warm-up: the first task processes import more
            idle = [run_probe(api) for _ in range(args.probes)]
            runs = {dag_id: park(api, dag_id) for dag_id in dags}  # while paused: SQLite takes one writer
            started = time.monotonic()
            for dag_id in dags:
                api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
            api.wait(
                f"{args.releases} approvals to wait for input",
                lambda: all(s == "awaiting_input" for s in approval_states(api, runs)), interval=1,
            )  # fmt: skip
            parking = time.monotonic() - started
            settle(api)
            parked = [run_probe(api) for _ in range(args.probes)]
            still = sum(s == "awaiting_input" for s in approval_states(api, runs))
        finally:
            server.stop()

    def show(label: str, probes: list[tuple[float, list[float], list[float]]]) -> float:
        wall = statistics.median(w for w, _, _ in probes)
        task = statistics.median(s for _, tasks, _ in probes for s in tasks)
        gap = statistics.median(g for _, _, gaps in probes for g in gaps)
        print(
            f"  {label:<34} run {wall:5.1f} s (median of {len(probes)}: {', '.join(f'{w:.1f}' for w, _, _ in probes)});"
            f" task {task:4.2f} s, gap between tasks {gap:4.2f} s (medians)"
        )
        return wall

    print(f"probe DAG ({PROBE_TASKS} chained Python tasks), LocalExecutor with 1 worker slot:")
    base = show("idle system", idle)
    loaded = show(f"{args.releases} releases waiting for approval", parked)
    print(f"  {args.releases} approvals went from scheduled to waiting for input in {parking:.1f} s")
    print(f"  approvals still waiting after the probes: {still} of {args.releases}")
    print(f"probe with waiting approvals / idle: {loaded / base:.2f}x")


if __name__ == "__main__":
    main()
