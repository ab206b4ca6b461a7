"""Shift prod's ``live`` alias to a new version step by step, watching its errors, and put it
back on the previous version when a release fails: for Lambda functions (calls) and Step
Functions state machines (executions) alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from glue_cicd.operators.alias_target import AliasTargetOperator


class ShiftTrafficOperator(AliasTargetOperator):
    """Bake each traffic step (``traffic.steps`` percent of the traffic on the new version for
    ``bake_minutes``, deferred: no worker slot while it waits), then route all of it to the new
    version and record the release in the ledger. Errors above ``max_error_rate`` fail the task
    (:class:`~glue_cicd.functions.CanaryFailed`); ``rollback_prod`` then restores the previous version.

    :param kind: ``lambda`` or ``states``. :param target: the function or state machine.
    :param artifact: the build task's result. :param deployment: the prod deploy task's result.
    """

    template_fields: Sequence[str] = ("target", "artifact", "deployment")

    def __init__(self, *, kind: str, target: str, artifact: Any, deployment: Any, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.target = target
        self.artifact = artifact
        self.deployment = deployment

    def perform(self, context) -> dict[str, Any]:
        if not self.deployment.get("previous"):
            return self.promote(context)  # a first release: nothing to bake against
        return self.bake(0)

    def bake(self, step: int) -> Any:
        from glue_cicd.functions import LIVE_ALIAS
        from glue_cicd.triggers import BakeTrigger

        environments, spec = self.load_target()
        prod = environments["prod"]
        share = spec.traffic.steps[step]
        name, version = self.deployment["name"], self.deployment["version"]
        if step > 0:
            self.aliases(prod).route(name, LIVE_ALIAS, self.deployment["previous"], {version: share / 100})
        minutes = prod.bake_minutes_override or spec.traffic.bake_minutes
        started = datetime.now(UTC)
        self.log.info(
            "step %d: %d%% of the traffic on %s for %.1f minutes", step + 1, share, self.shown(version), minutes
        )
        self.defer(
            trigger=BakeTrigger(
                kind=self.kind,
                name=name,
                alias=LIVE_ALIAS,
                version=version,
                started=started.isoformat(),
                ends=(started + timedelta(minutes=minutes)).isoformat(),
                max_error_rate=spec.traffic.max_error_rate,
                poll_seconds=prod.bake_poll_seconds,
                step=step,
                aws_conn_id=prod.aws_conn_id,
                region_name=prod.region,
            ),
            method_name="baked",
            timeout=timedelta(minutes=minutes + 30),
        )

    def baked(self, context, event: dict[str, Any]) -> Any:
        return self.refusing(context, self._baked, context, event)

    def _baked(self, context, event: dict[str, Any]) -> Any:
        from glue_cicd.functions import CanaryFailed

        _, spec = self.load_target()
        step = event["step"]
        if not event["passed"]:
            raise CanaryFailed(f"step {step + 1} ({spec.traffic.steps[step]}% of the traffic): {event['problem']}")
        self.log.info("step %d passed: %d calls, %d errors", step + 1, event["invocations"], event["errors"])
        if step + 1 < len(spec.traffic.steps):
            return self.bake(step + 1)
        return self.promote(context)

    def promote(self, context) -> dict[str, Any]:
        from glue_cicd.functions import LIVE_ALIAS

        environments, _ = self.load_target()
        name, version = self.deployment["name"], self.deployment["version"]
        self.aliases(environments["prod"]).route(name, LIVE_ALIAS, version)
        ledger = self.ledger(environments)
        deployment = ledger.record_deployment(
            job=self.job,
            environment="prod",
            version=self.artifact["version"],
            artifact_sha256=self.artifact["sha256"],
            script_location=self.artifact["uri"],
            run_id=self.run_ref(context),
            definition=self.deployment["definition"],
        )
        ledger.set_outcome(deployment, "verified")
        self.log.info(
            "%s:%s: all traffic on %s (artifact %s)", name, LIVE_ALIAS, self.shown(version), self.artifact["version"]
        )
        return {"name": name, "version": version, "artifact": self.artifact["version"]}


class RollbackAliasOperator(AliasTargetOperator):
    """After a failed prod deploy or traffic shift: all traffic back on the previous version (the
    new one stays published, unused), one alert, and the task fails so the release shows failed.
    When the prod deploy never ran (a rejected approval, a failure before it) it only fails.

    :param kind: ``lambda`` or ``states``. :param target: the function or state machine.
    :param deployment: the prod deploy task's result (None if it failed before deploying).
    :param failed_tasks: the tasks whose recorded failure the alert quotes.
    """

    template_fields: Sequence[str] = ("target", "deployment")

    def __init__(self, *, kind: str, target: str, deployment: Any = None, failed_tasks: list[str], **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.target = target
        self.deployment = deployment
        self.failed_tasks = failed_tasks

    def perform(self, context) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from glue_cicd.functions import LIVE_ALIAS
        from glue_cicd.notifications import send_alert
        from glue_cicd.operators.base import XCOM_FAILURE

        environments, _ = self.load_target()
        prod = environments["prod"]
        reasons = [
            f"{t}: {r}" for t in self.failed_tasks if (r := context["ti"].xcom_pull(task_ids=t, key=XCOM_FAILURE))
        ]
        if not self.deployment and not reasons:  # e.g. the approval was rejected: prod never changed
            # Failed, not skipped: this leaf is what marks the release failed. No alert: prod is as it was.
            raise AirflowFailException("the release stopped before its prod deploy ran: prod unchanged, no rollback")
        reason = "; ".join(reasons) or "a task failed (see its log)"
        deployment = self.deployment or {}
        name, previous = deployment.get("name"), deployment.get("previous")
        if name and previous:
            self.aliases(prod).route(name, LIVE_ALIAS, previous)
            outcome = (
                f"{name}:{LIVE_ALIAS} is back on {self.shown(previous)}; "
                f"{self.shown(deployment['version'])} takes no traffic"
            )
            self.ledger(environments).record(
                self.job, "rollback", run_id=self.run_ref(context), environment="prod", version=previous, reason=reason
            )
        elif name:
            outcome = (
                f"{name} had no version before this release: {name}:{LIVE_ALIAS} stays on "
                f"{self.shown(deployment['version'])}"
            )
        else:
            outcome = "nothing was deployed to prod"
        message = (
            f"A release of {self.noun} {self.target} failed in prod; {outcome}.\n\n{reason}\n\n"
            f"DAG run: {self.run_ref(context)}"
        )
        send_alert(environments, prod, f"release of {self.target} rolled back", message)
        self.log.error("%s", message)
        raise AirflowFailException(f"release failed; {outcome}: {reason}")
