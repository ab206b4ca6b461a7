"""The approval's fail-closed paths through a real Airflow server (``airflow standalone``) and its
REST API: marking the waiting approval successful by hand promotes nothing, and an approval
nobody answers times out and fails the release. Answering in the UI (the triggerer refused, the
reviewer approving, rejecting, rolling back) is ``test_ui_release.py``; by REST on the Celery
team stack, ``test_team_stack.py``. Every process a test starts is stopped, within a bounded
time, whatever happens.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager

import pytest

from dev.local_airflow import AirflowApi, AirflowStandalone, airflow_env, free_port
from glue_cicd.paths import ENVIRONMENTS_FILE
from support.dag_runs import glue_job

pytestmark = pytest.mark.e2e
DAG = "release__process_sales_data"
TERMINAL = {"success", "failed"}


class Api(AirflowApi):
    """A user of the REST API, working on the release DAG."""

    def task(self, run_id: str, task_id: str) -> dict:
        return self.call("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/{task_id}")

    def trigger(self) -> str:
        return self.call("POST", f"/api/v2/dags/{DAG}/dagRuns", {"logical_date": None, "conf": {}})["dag_run_id"]

    def awaiting_approval(self, run_id: str) -> None:
        def waiting() -> bool:
            state = self.task(run_id, "approval")["state"]
            assert state not in ("upstream_failed", "failed", "skipped"), f"the run failed before its approval: {state}"
            return state == "awaiting_input"

        self.wait("the approval to wait for input", waiting)
        # Airflow 3.3.2 races when an answer lands within a scheduler loop of the task parking:
        # the executor's late "success" event for the parked attempt then fails the resumed task.
        # People take longer than that; give the scheduler a few loops.
        time.sleep(5)

    def finished(self, run_id: str) -> str:
        run = lambda: self.call("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}")["state"]  # noqa: E731
        return self.wait("the run to finish", lambda: run() if run() in TERMINAL else None)

    def log(self, run_id: str, task_id: str) -> str:
        content = self.call("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/{task_id}/logs/1")
        return json.dumps(content)


@contextmanager
def standalone(emulator, home, **env):
    """A running ``airflow standalone`` with users admin and reviewer, stopped whatever happens."""
    airflow = AirflowStandalone(
        dict(airflow_env(home, emulator.endpoint_url), **env),
        users=("admin:admin", "reviewer:user"),
        port=free_port(),
    )
    try:
        airflow.start()
        yield airflow
    finally:
        airflow.stop(timeout=30)


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    with standalone(emulator, tmp_path_factory.mktemp("airflow-e2e")) as airflow:
        yield airflow


def login(server) -> tuple[Api, Api]:
    """admin and reviewer, once the DAGs are parsed (active on creation)."""
    passwords = server.passwords()
    admin, reviewer = Api(server.url, "admin", passwords["admin"]), Api(server.url, "reviewer", passwords["reviewer"])
    # Active on creation (is_paused_upon_creation=False), whatever the server's default: a release
    # runs when triggered and revalidation on its schedule, with nobody unpausing anything.
    for dag_id in (DAG, "rollback_glue_job", "revalidate_prod_datasets"):
        assert admin.parsed_dag(dag_id)["is_paused"] is False, f"{dag_id} is paused on creation"
    return admin, reviewer


@pytest.fixture(scope="module")
def users(server):
    return login(server)


def prod_script(aws) -> str | None:
    try:
        return glue_job(aws, "process_sales_data-prod")["Command"]["ScriptLocation"]
    except aws("glue").exceptions.EntityNotFoundException:
        return None


def test_an_approval_marked_successful_by_hand_promotes_nothing(users, aws):
    """ "Mark Task Instance as Success" on the waiting approval, by the person who triggered the
    release, under the emulator's relaxed environments file (which `make up` uses too)."""
    admin, _ = users
    before = prod_script(aws)
    marked = admin.trigger()
    admin.awaiting_approval(marked)
    admin.call("PATCH", f"/api/v2/dags/{DAG}/dagRuns/{marked}/taskInstances/approval", {"new_state": "success"})
    assert admin.finished(marked) == "failed"
    assert admin.task(marked, "publish")["state"] == "failed"
    assert admin.task(marked, "rollback_prod")["state"] == "skipped"  # prod never changed: one clear failure
    assert "the approval was marked successful by hand" in admin.log(marked, "publish")
    assert prod_script(aws) == before


def test_an_unanswered_approval_times_out_as_a_rejection(emulator, aws, tmp_path):
    environments = tmp_path / "environments.yaml"
    environments.write_text(
        ENVIRONMENTS_FILE.read_text().replace("approval_timeout_hours: 24", "approval_timeout_hours: 0.001")
    )  # 3.6 s
    before = prod_script(aws)
    with standalone(emulator, tmp_path / "airflow", GLUE_CICD_ENVIRONMENTS_FILE=str(environments)) as server:
        admin, _ = login(server)
        run = admin.trigger()
        assert admin.finished(run) == "failed"
        assert admin.task(run, "approval")["state"] == "failed"
        assert admin.task(run, "publish")["state"] == "upstream_failed"
    assert prod_script(aws) == before
