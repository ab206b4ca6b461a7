"""The approval flow through a real Airflow server (``airflow standalone``) and its REST API.

As ``admin`` trigger ``release__process_sales_data``; when the approval task waits for input,
admin's own answer is refused up front (four eyes: the approval's assigned users leave out the
person who triggered it) and ``reviewer``'s approval promotes; in a second run, marking the
waiting approval successful by hand promotes nothing. An approval nobody answers times out
and fails the release. Every process a test starts is stopped, within a bounded
time, whatever happens.
"""

from __future__ import annotations

import json
import time
import urllib.error
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

    def answer(self, run_id: str, choice: str) -> dict:
        path = f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/approval/-1/hitlDetails"
        return self.call("PATCH", path, {"chosen_options": [choice], "params_input": {}})

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
    """admin and reviewer, once the release DAG is parsed and unpaused."""
    passwords = server.passwords()
    admin, reviewer = Api(server.url, "admin", passwords["admin"]), Api(server.url, "reviewer", passwords["reviewer"])
    admin.wait("the release DAG to be parsed", lambda: admin.call("GET", f"/api/v2/dags/{DAG}"))
    admin.call("PATCH", f"/api/v2/dags/{DAG}", {"is_paused": False})
    return admin, reviewer


@pytest.fixture(scope="module")
def users(server):
    return login(server)


def prod_script(aws) -> str | None:
    try:
        return glue_job(aws, "process_sales_data-prod")["Command"]["ScriptLocation"]
    except aws("glue").exceptions.EntityNotFoundException:
        return None


def test_four_eyes_approval_through_the_api(users, aws, server):
    admin, reviewer = users
    before = prod_script(aws)

    approved = admin.trigger()
    admin.awaiting_approval(approved)
    with pytest.raises(urllib.error.HTTPError) as refused:  # four eyes, up front: admin is not assigned
        admin.answer(approved, "Approve")
    assert refused.value.code == 403
    assert admin.task(approved, "approval")["state"] == "awaiting_input"
    assert prod_script(aws) == before
    detail = reviewer.answer(approved, "Approve")
    assert detail["responded_by"]["name"] == "reviewer"
    assert reviewer.finished(approved) == "success"
    promoted = prod_script(aws)
    assert promoted == glue_job(aws, "process_sales_data-staging")["Command"]["ScriptLocation"]

    # "Mark Task Instance as Success" on the waiting approval, by the person who triggered it.
    marked = admin.trigger()
    admin.awaiting_approval(marked)
    admin.call("PATCH", f"/api/v2/dags/{DAG}/dagRuns/{marked}/taskInstances/approval", {"new_state": "success"})
    assert admin.finished(marked) == "failed"
    assert admin.task(marked, "publish")["state"] == "failed"
    assert admin.task(marked, "rollback_prod")["state"] == "skipped"  # prod never changed: one clear failure
    assert "the approval was marked successful by hand" in admin.log(marked, "publish")
    assert prod_script(aws) == promoted


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
