"""DAG parse cost, measured in one process per configuration.

1. Each of our DAG files against a trivial DAG file (one EmptyOperator): median of many parses
   with Airflow's own DagBag, after one warm-up parse each (the DAG processor keeps imported
   modules). Target: every file within 1.5x of the trivial one. Also against its "twin": a file
   declaring the same DAGs with the same params and as many EmptyOperators, i.e. what Airflow
   itself costs for that shape; the difference is our own work (specs, operators, wiring).
2. Scaling of ``release_glue_jobs.py`` with 1, 10, 100 and 500 job specs (generated copies of
   process_sales_data in a temporary folder). Target: under 5 ms per job spec, linear. The DAGs
   of the previous repetition are cyclic garbage (hundreds of DAGs at 500 specs) that Python's
   collector would scan during the next timed parse; they are collected before each one.

    .venv/bin/python bench/parse_cost.py [--repetitions 30]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
TRIVIAL = """
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("trivial", schedule=None, tags=["bench"]):
    EmptyOperator(task_id="noop")
"""


def median_parse(path: Path, repetitions: int, collect: bool = False) -> float:
    """Median wall time of parsing ``path``; with ``collect``, the previous parse's garbage is
    collected first (untimed), since each real parse runs in a fresh process."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path), collect_dags=False)
    bag.process_file(str(path), only_if_updated=False)  # warm-up: imports stay cached
    assert not bag.import_errors, bag.import_errors
    samples = []
    for _ in range(repetitions):
        if collect:
            gc.collect()
        started = time.perf_counter()
        bag.process_file(str(path), only_if_updated=False)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def write_twin(path: Path, target: Path) -> None:
    """Write a DAG file of the same shape as ``path`` (DAGs, params, task count), EmptyOperators only."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path), collect_dags=False)
    bag.process_file(str(path), only_if_updated=False)
    lines = [
        "import datetime",
        "import pendulum",
        "from airflow.providers.standard.operators.empty import EmptyOperator",
        "from airflow.sdk import DAG, Param, chain",
    ]
    for dag_id, dag in bag.dags.items():
        params = {name: dag.params.get_param(name).dump() for name in dag.params}
        params = {name: (p.pop("value"), p.pop("description"), p["schema"]) for name, p in params.items()}
        lines += [
            f"with DAG({dag_id!r}, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz='UTC'),",
            f"         default_args={dag.default_args!r},",
            "         params={"
            + ", ".join(f"{n!r}: Param({v!r}, description={d!r}, **{s!r})" for n, (v, d, s) in params.items())
            + "}):",
            f"    chain(*[EmptyOperator(task_id=f't{{i}}') for i in range({len(dag.tasks)})])",
        ]
    target.write_text("\n".join(lines) + "\n")


def write_jobs(folder: Path, count: int) -> None:
    source = (PROJECT / "glue_jobs" / "process_sales_data" / "job.yaml").read_text()
    for i in range(count):
        job = folder / f"job_{i:04d}"
        job.mkdir(parents=True, exist_ok=True)
        (job / "job.py").write_text("")
        text = source.replace("name: process_sales_data", f"name: job_{i:04d}")
        (job / "job.yaml").write_text(text.replace("/curated/sales/", f"/curated/sales_{i}/"))


def scaling(count: int, repetitions: int) -> float:
    """Median parse time of the release DAG file with ``count`` specs, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        write_jobs(Path(tmp), count)
        env = {**os.environ, "GLUE_CICD_JOBS_DIR": tmp, "AIRFLOW_HOME": tmp + "/home"}
        code = (
            "import json, sys; sys.path[:0] = sys.argv[1:3]; from pathlib import Path;"
            " from parse_cost import median_parse;"
            f" print(json.dumps(median_parse(Path(sys.argv[3]), {repetitions}, collect=True)))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, str(PROJECT / "bench"), str(PROJECT / "plugins"),
             str(PROJECT / "dags" / "release_glue_jobs.py")],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp())
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    with tempfile.TemporaryDirectory() as tmp:
        trivial = Path(tmp) / "trivial_dag.py"
        trivial.write_text(TRIVIAL)
        base = median_parse(trivial, args.repetitions)
        print(f"trivial DAG file:            {base * 1000:8.2f} ms (median of {args.repetitions})")
        for path in sorted((PROJECT / "dags").glob("*.py")):
            cost = median_parse(path, args.repetitions)
            twin = Path(tmp) / f"twin_{path.name}"
            write_twin(path, twin)
            floor = median_parse(twin, args.repetitions)
            print(
                f"{path.name:<28} {cost * 1000:8.2f} ms  = {cost / base:5.2f}x trivial (target <= 1.5x);"
                f" same-shape EmptyOperator twin {floor * 1000:6.2f} ms, ours = {cost / floor:4.2f}x twin"
            )
    print("\nrelease_glue_jobs.py by number of job specs:")
    previous = None
    for count in (1, 10, 100, 500):
        cost = scaling(count, max(3, args.repetitions // (1 + count // 50)))
        line = f"  {count:4d} specs: {cost * 1000:9.1f} ms, {cost / count * 1000:6.2f} ms per spec (target < 5)"
        if previous:
            line += f", x{cost / previous[1]:.1f} time for x{count / previous[0]:.0f} specs"
        print(line)
        previous = (count, cost)


if __name__ == "__main__":
    main()
