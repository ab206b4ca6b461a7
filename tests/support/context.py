"""The part of an Airflow task context the pipeline's operators use, for running them in-process."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace


class TaskInstance:
    """The part of Airflow's task instance the operators use: XComs, one store for the whole run
    (a context shared by several tasks sees what each pushed under a key, the latest push wins)."""

    def __init__(self, dag_id: str = "operator_tests", run_id: str = "manual__test", task_id: str = "task"):
        self.xcom: dict[str, object] = {}
        self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number = dag_id, run_id, task_id, -1, 1

    def xcom_push(self, key: str, value) -> None:
        self.xcom[key] = value

    def xcom_pull(self, task_ids=None, key: str = "return_value", **_):
        return self.xcom.get(key)


def context(user: str = "alice", **params) -> dict:
    run_id = f"manual__{uuid.uuid4().hex[:8]}"
    return {
        "dag": SimpleNamespace(dag_id="operator_tests"),
        "run_id": run_id,
        "dag_run": SimpleNamespace(triggering_user_name=user, run_after=datetime.now(UTC)),
        "ti": TaskInstance(run_id=run_id),
        "params": params,
    }
