"""The human approval every prod change waits for (releases and rollbacks alike)."""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator

from glue_cicd.spec import Environment


def approval_task(
    *, env: Environment, subject: str, body: str, task_id: str = "approval", **kwargs
) -> ApprovalOperator:
    """Airflow's HITL approval, failing closed: no answer within the environment's
    ``approval_timeout_hours`` is a Reject, a Reject fails the task, and only the environment's
    ``approvers`` may answer. Never retried (a retry would ask again)."""
    return ApprovalOperator(
        task_id=task_id,
        subject=subject,
        body=body,
        defaults="Reject",
        fail_on_reject=True,
        assigned_users=[{"id": user, "name": user} for user in env.approvers] or None,
        response_timeout=timedelta(hours=env.approval_timeout_hours),
        retries=0,
        **kwargs,
    )
