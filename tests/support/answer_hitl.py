"""Answer a waiting HITL task the way Airflow's API server does (run as a separate process).

Usage: python answer_hitl.py DAG_ID TASK_ID USER CHOICE [TIMEOUT]

Waits for the DAG's latest run to park TASK_ID in ``awaiting_input``, then records USER's
answer on its HITL detail and resumes the task with ``handle_event_submit``, as
``PATCH .../hitlDetails`` does. Needs the same AIRFLOW_HOME as the run.
"""

from __future__ import annotations

import sys
import time


def answer(dag_id: str, task_id: str, user: str, choice: str, timeout: float) -> None:
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils import timezone
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with create_session() as session:
            ti = session.scalars(
                select(TaskInstance)
                .where(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id)
                .where(TaskInstance.state == TaskInstanceState.AWAITING_INPUT)
            ).first()
            detail = ti and session.scalars(select(HITLDetail).where(HITLDetail.ti_id == ti.id)).first()
            if detail is not None:
                detail.responded_by = {"id": user, "name": user}
                detail.responded_at = timezone.utcnow()
                detail.chosen_options = [choice]
                detail.params_input = {}
                session.add(detail)
                handle_event_submit(TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session)
                print(f"answered {dag_id}.{task_id} as {user}: {choice}", flush=True)
                return
        time.sleep(0.5)
    raise SystemExit(f"{dag_id}.{task_id} never waited for input within {timeout:.0f} s")


if __name__ == "__main__":
    dag, task, who, option = sys.argv[1:5]
    answer(dag, task, who, option, float(sys.argv[5]) if len(sys.argv) > 5 else 600)
