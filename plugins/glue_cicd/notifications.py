"""Messages to people: alerts (a failed run or release) and “an approval is waiting”, to the
alerts topic (SNS) and, for approvals, to Slack if configured."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)


def send_alert(environments, env, subject: str, message: str) -> None:
    """Publish one alert to the alerts topic through ``env``'s connection."""
    from airflow.providers.amazon.aws.hooks.sns import SnsHook

    SnsHook(aws_conn_id=env.aws_conn_id, region_name=env.region).publish_to_target(
        target_arn=environments.alerts_topic_arn, subject=f"[glue-cicd] {subject}"[:100], message=message
    )


def approval_waiting_text(
    *, subject: str, dag_id: str, run_id: str, triggered_by: str | None, approvers: list[str], deadline: str, link: str
) -> str:
    """The message body: what waits, who asked, who may answer, by when, and where."""
    return "\n".join(
        [
            f"Approval waiting: {subject}",
            "",
            f"Run: {dag_id} / {run_id}",
            f"Triggered by: {triggered_by or 'unknown'} (may not approve it)",
            f"May approve: {', '.join(approvers) if approvers else 'anyone allowed, except who triggered it'}",
            f"Answer by: {deadline} (unanswered, it fails and nothing changes)",
            f"Approve or reject: {link}",
        ]
    )


class ApprovalWaitingNotifier(BaseNotifier):
    """Sends one message per channel when an approval task starts waiting (HITL ``notifiers``).

    A channel that fails is logged and skipped: the request still waits in Required Actions.

    :param aws_conn_id: the connection that publishes to ``topic_arn``.
    :param region_name: the topic's region.
    :param topic_arn: the alerts topic, or None for no SNS message.
    :param slack_webhook_conn_id: a Slack incoming-webhook connection, or None.
    """

    template_fields = ()

    def __init__(
        self, *, aws_conn_id: str, region_name: str, topic_arn: str | None, slack_webhook_conn_id: str | None = None
    ):
        super().__init__()
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.topic_arn = topic_arn
        self.slack_webhook_conn_id = slack_webhook_conn_id

    def notify(self, context) -> None:
        task, ti = context["task"], context["ti"]
        subject = str(task.subject)
        text = approval_waiting_text(
            subject=subject,
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            triggered_by=context["dag_run"].triggering_user_name,
            approvers=[user["name"] for user in task.assigned_users or []],
            deadline=self.deadline(task),
            link=self.link(context),
        )
        if self.topic_arn:
            self.send("SNS", self.publish_sns, subject, text)
        if self.slack_webhook_conn_id:
            self.send("Slack", self.post_slack, subject, text, context)

    def send(self, channel: str, send, *args) -> None:
        try:
            send(*args)
            log.info("approval request sent to %s", channel)
        except Exception:
            log.exception("could not send the approval request to %s; it still waits in Required Actions", channel)

    def publish_sns(self, subject: str, text: str) -> None:
        from airflow.providers.amazon.aws.hooks.sns import SnsHook

        hook = SnsHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)
        hook.publish_to_target(target_arn=self.topic_arn, message=text, subject=f"[glue-cicd] {subject}"[:100])

    def post_slack(self, subject: str, text: str, context) -> None:
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        SlackWebhookNotifier(slack_webhook_conn_id=self.slack_webhook_conn_id, text=text).notify(context)

    @staticmethod
    def deadline(task) -> str:
        stamp = getattr(task, "hitl_summary_extra", {}).get("timeout_datetime")
        if stamp is None and task.response_timeout:
            stamp = (datetime.now(UTC) + task.response_timeout).isoformat()
        if stamp is None:
            return "no deadline"
        return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    @staticmethod
    def link(context) -> str:
        """The Required Action's address (Airflow's ``[api] base_url`` must be set for a full URL)."""
        task, ti = context["task"], context["ti"]
        try:
            return task.generate_link_to_ui_from_context(context=context)
        except ValueError:
            path = f"/dags/{ti.dag_id}/runs/{ti.run_id}/tasks/{ti.task_id}/required_actions"
            return f"{path} (on the Airflow UI; set [api] base_url for a full link)"
