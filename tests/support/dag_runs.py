"""Run DAGs with ``airflow dags test`` in tests, and read back what they did."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from dev.local_airflow import dag_run_state, dags_test_command, task_times
from glue_cicd.generations import generation_of
from glue_cicd.paths import JOBS_DIR

HITL = Path(__file__).with_name("answer_hitl.py")


def dags_test(
    airflow,
    dag_id: str,
    *,
    mark: str | None = None,
    conf=None,
    env=None,
    unset=(),
    answer=None,
    timeout=900,
    logical_date: str | None = None,
):
    """Run ``airflow dags test``; optionally answer its ``approval`` task from a second process.

    :param env: variables to set for the run; ``unset``: variables to remove.
    :param answer: ``(user, choice)`` to record on the waiting approval, as the API server would.
    :param logical_date: the run's logical date (its data interval is the timetable's for that date).
    :return: the run's state, each task's state, and the command's output.
    """
    log = airflow.logs / f"{dag_id}-{len(list(airflow.logs.iterdir()))}.log"
    run_env = {k: v for k, v in dict(airflow.env, **(env or {})).items() if k not in unset}
    with log.open("w") as out:
        run = subprocess.Popen(
            dags_test_command(dag_id, mark_success=mark, conf=conf, logical_date=logical_date),
            env=run_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            if answer:
                user, choice = answer
                subprocess.run(
                    [sys.executable, str(HITL), dag_id, "approval", user, choice, str(timeout)],
                    env=run_env,
                    check=True,
                    timeout=timeout + 60,
                    capture_output=True,
                )
            run.wait(timeout=timeout)
        finally:
            if run.poll() is None:  # a waiting HITL task ignores SIGTERM
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
    states = {task: state for task, state, _ in task_times(airflow.home, dag_id)}
    return SimpleNamespace(
        state=dag_run_state(airflow.home, dag_id), tasks=states, log=log.read_text(), returncode=run.returncode
    )


def glue_job(aws, name: str) -> dict:
    """GetJob plus the job's tags."""
    job = aws("glue").get_job(JobName=name)["Job"]
    arn = f"arn:aws:glue:us-east-1:123456789012:job/{name}"
    return {**job, "Tags": aws("glue").get_tags(ResourceArn=arn)["Tags"]}


def changed_jobs_dir(tmp_path: Path, marker: str) -> Path:
    """A copy of the job sources with a harmless change, so it builds a new version."""
    target = tmp_path / "glue_jobs"
    shutil.copytree(JOBS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    transforms = target / "process_sales_data" / "transforms.py"
    transforms.write_text(transforms.read_text() + f"\n# {marker}\n")
    return target


def ensure_released(airflow, ledger, job: str) -> None:
    """Prod runs a good release of ``job`` (and of the jobs it reads), releasing it if not, so a
    scenario that needs prod state can run alone and in any order."""
    for needed in ("process_sales_data", job) if job != "process_sales_data" else (job,):
        live = ledger.live(needed, "prod")
        # Operator tests record deployments of their own (no staging publish): only the DAGs' count.
        by_a_dag = live is not None and live.run_id.startswith(("release__", "rollback_glue_job/"))
        if not by_a_dag or live.outcome in ("failed", "rolled_back"):
            run = dags_test(airflow, f"release__{needed}", mark="^(test|approval)$")
            assert run.state == "success", run.log[-3000:]


PROD_BUCKET = "glue-cicd-data-prod-123456789012"
SKIP_TESTS_AND_APPROVAL = "^(test|approval)$"


def consumers_read(aws, table: str) -> set[str | None]:
    """The generations prod consumers of ``table`` read (through the catalog)."""
    glue = aws("glue")
    try:
        found = glue.get_table(DatabaseName="glue_cicd_prod", Name=table)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return set()
    if not found["PartitionKeys"]:
        return {generation_of(found["StorageDescriptor"]["Location"])}
    partitions = glue.get_partitions(DatabaseName="glue_cicd_prod", TableName=table)["Partitions"]
    return {generation_of(p["StorageDescriptor"]["Location"]) for p in partitions}


def release(airflow, job: str, *, mark: str | None = "^approval$", jobs_dir: Path | None = None, answer=None, env=None):
    """Run ``release__<job>``, from another copy of the job sources if given."""
    env = dict(env or {}, **({"GLUE_CICD_JOBS_DIR": str(jobs_dir)} if jobs_dir else {}))
    return dags_test(airflow, f"release__{job}", mark=mark, env=env, answer=answer)
