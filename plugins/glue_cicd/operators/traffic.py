"""Shift prod's ``live`` alias to a new Lambda version step by step, watching its errors, and put
it back on the previous version when a release fails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.amazon.aws.hooks.sns import SnsHook

from glue_cicd.operators.function_base import FunctionOperator


class ShiftTrafficOperator(FunctionOperator):
    """Bake each traffic step (``traffic.steps`` percent of calls on the new version for
    ``bake_minutes``, deferred: no worker slot while it waits), then route every call to the new
    version and record the release in the ledger. Errors above ``max_error_rate`` fail the task
    (:class:`~glue_cicd.functions.CanaryFailed`); ``rollback_prod`` then restores the previous version.

    :param artifact: the build task's result.
    :param deployment: the prod deploy task's result.
    """

    template_fields: Sequence[str] = ("function", "artifact", "deployment")

    def __init__(self, *, function: str, artifact: Any, deployment: Any, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.job = f"lambda:{function}"
        self.artifact = artifact
        self.deployment = deployment

    def perform(self, context) -> dict[str, Any]:
        if not self.deployment.get("previous"):
            return self.promote(context)  # a first release: nothing to bake against
        return self.bake(0)

    def bake(self, step: int) -> Any:
        from glue_cicd.functions import LIVE_ALIAS
        from glue_cicd.triggers import BakeTrigger

        environments, spec = self.load_function()
        prod = environments["prod"]
        share = spec.traffic.steps[step]
        if step > 0:
            self.lambdas(prod).route(
                self.deployment["function_name"],
                LIVE_ALIAS,
                self.deployment["previous"],
                {self.deployment["version"]: share / 100},
            )
        minutes = prod.bake_minutes_override or spec.traffic.bake_minutes
        started = datetime.now(UTC)
        self.log.info(
            "step %d: %d%% of calls on version %s for %.1f minutes",
            step + 1,
            share,
            self.deployment["version"],
            minutes,
        )
        self.defer(
            trigger=BakeTrigger(
                function_name=self.deployment["function_name"],
                alias=LIVE_ALIAS,
                version=self.deployment["version"],
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

        _, spec = self.load_function()
        step = event["step"]
        if not event["passed"]:
            raise CanaryFailed(f"step {step + 1} ({spec.traffic.steps[step]}% of calls): {event['problem']}")
        self.log.info("step %d passed: %d calls, %d errors", step + 1, event["invocations"], event["errors"])
        if step + 1 < len(spec.traffic.steps):
            return self.bake(step + 1)
        return self.promote(context)

    def promote(self, context) -> dict[str, Any]:
        from glue_cicd.functions import LIVE_ALIAS, FunctionArtifact

        environments, _ = self.load_function()
        artifact = FunctionArtifact.from_dict(self.artifact)
        name, version = self.deployment["function_name"], self.deployment["version"]
        self.lambdas(environments["prod"]).route(name, LIVE_ALIAS, version)
        ledger = self.ledger(environments)
        deployment = ledger.record_deployment(
            job=self.job,
            environment="prod",
            version=artifact.version,
            artifact_sha256=artifact.sha256,
            script_location=artifact.uri,
            run_id=self.run_ref(context),
            definition={"configuration": self.deployment["configuration"], "lambda_version": version},
        )
        ledger.set_outcome(deployment, "verified")
        self.log.info("%s:%s: all calls on version %s (artifact %s)", name, LIVE_ALIAS, version, artifact.version)
        return {"function_name": name, "version": version, "artifact": artifact.version}


class RollbackFunctionOperator(FunctionOperator):
    """After a failed prod deploy or traffic shift: every call back on the previous version (the
    new one stays published, unused), one alert, and the task fails so the release shows failed.

    :param deployment: the prod deploy task's result (None if it failed before deploying).
    :param failed_tasks: the tasks whose recorded failure the alert quotes.
    """

    template_fields: Sequence[str] = ("function", "deployment")

    def __init__(self, *, function: str, deployment: Any = None, failed_tasks: list[str], **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.job = f"lambda:{function}"
        self.deployment = deployment
        self.failed_tasks = failed_tasks

    def perform(self, context) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from glue_cicd.functions import LIVE_ALIAS
        from glue_cicd.operators.base import XCOM_FAILURE

        environments, _ = self.load_function()
        prod = environments["prod"]
        reasons = [
            f"{t}: {r}" for t in self.failed_tasks if (r := context["ti"].xcom_pull(task_ids=t, key=XCOM_FAILURE))
        ]
        reason = "; ".join(reasons) or "a task failed (see its log)"
        deployment = self.deployment or {}
        name, previous = deployment.get("function_name"), deployment.get("previous")
        if name and previous:
            self.lambdas(prod).route(name, LIVE_ALIAS, previous)
            outcome = (
                f"{name}:{LIVE_ALIAS} is back on version {previous}; version {deployment['version']} takes no calls"
            )
            self.ledger(environments).record(
                self.job, "rollback", run_id=self.run_ref(context), environment="prod", version=previous, reason=reason
            )
        elif name:
            outcome = f"{name} had no version before this release: {name}:{LIVE_ALIAS} stays on {deployment['version']}"
        else:
            outcome = "nothing was deployed to prod"
        message = (
            f"A release of Lambda function {self.function} failed in prod; {outcome}.\n\n{reason}\n\n"
            f"DAG run: {self.run_ref(context)}"
        )
        SnsHook(aws_conn_id=prod.aws_conn_id, region_name=prod.region).publish_to_target(
            target_arn=environments.alerts_topic_arn,
            subject=f"[glue-cicd] release of {self.function} rolled back"[:100],
            message=message,
        )
        self.log.error("%s", message)
        raise AirflowFailException(f"release failed; {outcome}: {reason}")
