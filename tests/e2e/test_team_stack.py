"""docker-compose.yaml's team stack, run for real without containers (``dev.team_stack``), and
faults on it, all within one approved release of ``release__process_sales_data``:

- the Celery worker is SIGKILLed with everything it started while ``test`` runs: the task's try
  fails on its missing heartbeat and the retry succeeds on the restarted worker;
- the triggerer is restarted while ``run_staging`` waits deferred on its Glue run: it completes;
- the scheduler is restarted while the approval waits for input: the approval is still answered.

``admin`` triggers and is refused as approver (REST, 403); ``reviewer`` (no Airflow admin) approves
in the browser (Required Actions), and prod's Glue job then runs the staging script. The AWS
connection comes from the emulator's Secrets Manager.
"""

from __future__ import annotations

import logging
import time
import urllib.error

import pytest

from dev.local_airflow import AirflowApi
from support.dag_runs import glue_job

log = logging.getLogger(__name__)
pytestmark = pytest.mark.e2e
DAG = "release__process_sales_data"
TERMINAL = {"success", "failed"}
FAILED = {"failed", "upstream_failed", "skipped"}


class Api(AirflowApi):
    """A user of the REST API, working on runs of the release DAG."""

    def run_path(self, run_id: str) -> str:
        return f"/api/v2/dags/{DAG}/dagRuns/{run_id}"

    def task(self, run_id: str, task_id: str) -> dict:
        return self.call("GET", f"{self.run_path(run_id)}/taskInstances/{task_id}")

    def tries(self, run_id: str, task_id: str) -> dict[int, str]:
        """``{try number: state}`` of the task's tries, the current one included."""
        found = self.call("GET", f"{self.run_path(run_id)}/taskInstances/{task_id}/tries")["task_instances"]
        return {t["try_number"]: t["state"] for t in found}

    def trigger(self) -> str:
        return self.call("POST", f"/api/v2/dags/{DAG}/dagRuns", {"logical_date": None, "conf": {}})["dag_run_id"]

    def reach(self, run_id: str, task_id: str, state: str, timeout: float = 600) -> dict:
        """Wait for the task to be in ``state``; fail at once if the run fails first."""

        def reached() -> dict | None:
            task = self.task(run_id, task_id)
            run = self.call("GET", self.run_path(run_id))["state"]
            assert run not in TERMINAL, f"the run ended {run} before {task_id} was {state} (it is {task['state']})"
            assert task["state"] not in FAILED, f"{task_id} is {task['state']} before being {state}"
            return task if task["state"] == state else None

        return self.wait(f"{task_id} to be {state}", reached, timeout=timeout, interval=0.5)

    def hitl_path(self, run_id: str) -> str:
        return f"{self.run_path(run_id)}/taskInstances/approval/-1/hitlDetails"

    def answer(self, run_id: str, choice: str) -> dict:
        return self.call("PATCH", self.hitl_path(run_id), {"chosen_options": [choice], "params_input": {}})

    def finished(self, run_id: str, timeout: float = 600) -> str:
        state = lambda: self.call("GET", self.run_path(run_id))["state"]  # noqa: E731
        return self.wait("the run to finish", lambda: state() if state() in TERMINAL else None, timeout=timeout)


def prod_script(aws) -> str | None:
    try:
        return glue_job(aws, "process_sales_data-prod")["Command"]["ScriptLocation"]
    except aws("glue").exceptions.EntityNotFoundException:
        return None


@pytest.fixture(scope="module")
def users(team_stack) -> tuple[Api, Api]:
    """admin and reviewer (compose's users and roles), once the DAGs are parsed (active on creation)."""
    assert team_stack.users == {"admin": "admin", "reviewer": "user"}
    passwords = team_stack.passwords()
    admin = Api(team_stack.url, "admin", passwords["admin"])
    reviewer = Api(team_stack.url, "reviewer", passwords["reviewer"])
    # Active on creation (is_paused_upon_creation=False), whatever the server's default: a release
    # runs when triggered and revalidation on its schedule, with nobody unpausing anything.
    for dag_id in (DAG, "rollback_glue_job", "revalidate_prod_datasets"):
        assert admin.parsed_dag(dag_id)["is_paused"] is False, f"{dag_id} is paused on creation"
    return admin, reviewer


def test_the_aws_connection_comes_from_the_emulators_secrets_manager(team_stack):
    assert team_stack.env["AIRFLOW__SECRETS__BACKEND"].endswith(".SecretsManagerBackend")
    assert not [name for name in team_stack.env if name.startswith("AIRFLOW_CONN_")]


@pytest.mark.timeout(1200)  # ~4 min on an idle machine; far more when it is shared
def test_an_approved_release_survives_a_killed_worker_and_restarted_triggerer_and_scheduler(team_stack, users, aws):
    admin, reviewer = users
    run = admin.trigger()

    # The worker dies with the task it runs (a killed container), and comes back.
    killed = admin.reach(run, "test", "running")["try_number"]
    team_stack.kill("airflow-worker")
    team_stack.start_component("airflow-worker")

    admin.reach(run, "run_staging", "deferred")
    team_stack.restart("airflow-triggerer")

    admin.reach(run, "approval", "awaiting_input")
    team_stack.restart("airflow-scheduler")
    assert admin.task(run, "approval")["state"] == "awaiting_input"
    # Airflow 3.3.2 fails a resumed HITL task answered within a scheduler loop of parking: wait.
    time.sleep(5)
    answer_as_admin_then_reviewer(admin, reviewer, run)

    assert admin.finished(run) == "success"
    tries = admin.tries(run, "test")
    log.info("test's tries (the worker was killed during try %s): %s", killed, tries)
    assert tries[killed] != "success", tries
    assert max(tries) > killed, tries
    assert tries[max(tries)] == "success", tries
    for task_id in ("run_staging", "shadow_run", "approval"):
        assert admin.tries(run, task_id) == {1: "success"}, task_id
    staging = glue_job(aws, "process_sales_data-staging")["Command"]["ScriptLocation"]
    assert prod_script(aws) == staging


def answer_as_admin_then_reviewer(admin: Api, reviewer: Api, run_id: str) -> None:
    """admin, who triggered the run, is not among the assigned users and is refused (REST);
    reviewer approves in the browser, through Required Actions."""
    detail = admin.call("GET", admin.hitl_path(run_id))
    assert [user["name"] for user in detail["assigned_users"]] == ["reviewer"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        admin.answer(run_id, "Approve")
    assert refused.value.code == 403
    ui = pytest.importorskip("support.ui", reason="Playwright is not installed: `make browser` installs it")
    with ui.chromium() as browser:  # closes the person's browser context too
        person = ui.UiUser(browser, reviewer.url, "reviewer", reviewer.password, ui.Screenshots("team_stack_approval"))
        person.log_in()
        assert person.open_required_action(DAG, run_id).startswith("Publish process_sales_data ")
        assert person.answer("Approve") == "approval response successful"
