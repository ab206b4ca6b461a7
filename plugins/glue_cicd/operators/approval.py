"""The human approval every prod change waits for (releases and rollbacks alike)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk.exceptions import AirflowFailException

from glue_cicd.notifications import ApprovalWaitingNotifier
from glue_cicd.spec import Environment, EnvironmentsConfig


class ProdApprovalOperator(ApprovalOperator):
    """Airflow's HITL approval, failing closed, that the person who triggered the run cannot answer.

    When the task runs, its ``assigned_users`` become the environment's ``approvers`` minus the
    run's triggering user, so Airflow's UI and API refuse that person's answer up front. No
    default option: an unanswered request fails the task at ``approval_timeout_hours``, and a
    Reject fails it too. Never retried (a retry would ask again).

    :param approvers: the environment's approvers (empty: anyone Airflow lets answer, but the
        promotion still refuses the triggering user's approval).
    """

    def __init__(self, *, approvers: list[str], **kwargs):
        super().__init__(**kwargs)
        self.approvers = list(approvers)

    def execute(self, context) -> Any:
        from glue_cicd.approval import ApprovalRefused, eligible_approvers

        triggered_by = context["dag_run"].triggering_user_name
        try:
            eligible = eligible_approvers(self.approvers, triggered_by)
        except ApprovalRefused as exc:
            raise AirflowFailException(str(exc)) from exc
        self.assigned_users = [{"id": user, "name": user} for user in eligible] or None
        self.log.info(
            "waiting for %s (not %s) until %s",
            " or ".join(eligible) or "any user allowed", triggered_by or "the unknown triggering user",
            self.response_timeout,
        )  # fmt: skip
        return super().execute(context)


def approval_task(
    *, environments: EnvironmentsConfig, env: Environment, subject: str, body: str, task_id: str = "approval", **kwargs
) -> ProdApprovalOperator:
    """The approval of a change to ``env``: its approvers, its deadline, and a message to the
    configured channels (``approval_notifications``) when it starts waiting."""
    return ProdApprovalOperator(
        task_id=task_id,
        subject=subject,
        body=body,
        approvers=env.approvers,
        fail_on_reject=True,
        response_timeout=timedelta(hours=env.approval_timeout_hours),
        notifiers=[
            ApprovalWaitingNotifier(
                aws_conn_id=env.aws_conn_id,
                region_name=env.region,
                topic_arn=environments.alerts_topic_arn if environments.approval_notifications.sns else None,
                slack_webhook_conn_id=environments.approval_notifications.slack_webhook_conn_id,
            )
        ],
        retries=0,
        **kwargs,
    )
