"""Glue runs of a deployed job, awaited by the triggerer: a running job holds no worker slot."""

from __future__ import annotations

import math
from typing import Any

from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

from glue_cicd.spec import Environment


class GlueRunOperator(GlueJobOperator):
    """The provider's Glue job operator, deferring to :class:`~glue_cicd.triggers.QuietGlueJobCompleteTrigger`,
    that never writes into a generation already holding data (see :meth:`refuse_written_generations`)."""

    # How long a run waits for Glue to accept it while the job runs as often as it may.
    busy_wait = 6 * 3600

    def execute(self, context, attempt: int = 1):
        from botocore.exceptions import ClientError

        self.refuse_written_generations()
        try:
            return super().execute(context)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConcurrentRunsExceededException":
                raise
            self.start_later(exc, attempt)

    def start_later(self, exc, attempt: int) -> None:
        """Glue refused the run (the job runs as often as its MaxConcurrentRuns allows): wait in the
        triggerer, then try again, for up to :attr:`busy_wait`. Nothing was started or written."""
        from datetime import timedelta

        from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
        from airflow.sdk.exceptions import AirflowFailException

        # Not less than 30 s: a deferred task resumed within a scheduler loop of parking is failed by
        # the executor's late report of the parked attempt (Airflow 3.3.2).
        delay = timedelta(seconds=max(30, 4 * self.waiter_delay))
        if attempt * delay.total_seconds() > self.busy_wait:
            raise AirflowFailException(
                f"{self.job_name} stayed at its MaxConcurrentRuns for {self.busy_wait // 3600} h; nothing was run"
            )
        self.log.info("%s: %s; starting it again in %s", self.job_name, exc.response["Error"]["Message"], delay)
        self.defer(trigger=TimeDeltaTrigger(delay), method_name="start_again", kwargs={"attempt": attempt + 1})

    def start_again(self, context, event=None, attempt: int = 2):
        return self.execute(context, attempt)

    def refuse_written_generations(self) -> None:
        """Refuse, before starting a run, if a generation its arguments write to holds objects.

        An earlier attempt wrote them (a task cleared on its own reuses its deploy task's
        generation), and they may be what was audited or what consumers now read. Clearing the
        run from its deploy task gives it a new generation.
        """
        from airflow.sdk.exceptions import AirflowFailException

        from glue_cicd.generations import generation_of
        from glue_cicd.hooks.artifacts import ArtifactStoreHook

        store = ArtifactStoreHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)
        for argument, value in sorted((self.script_args or {}).items()):
            writes_generation = isinstance(value, str) and value.startswith("s3://") and generation_of(value)
            if writes_generation and store.has_objects(value):
                raise AirflowFailException(
                    f"{argument} {value} already holds data written by an earlier attempt; nothing was run. "
                    "Clear the DAG run from its deploy task to write a new generation."
                )

    def execute_complete(self, context, event=None):
        """The run id of a SUCCEEDED run; otherwise fail, recording the run's end state and error."""
        from airflow.sdk.exceptions import AirflowFailException

        from glue_cicd.operators.base import XCOM_FAILURE

        if (event or {}).get("status") == "success":
            return super().execute_complete(context, event)
        run_id = (event or {}).get("run_id") or getattr(self, "_job_run_id", None)
        state, error = "in error", (event or {}).get("message", "")
        if run_id:
            run = self.hook.conn.get_job_run(JobName=self.job_name, RunId=run_id)["JobRun"]
            state, error = run["JobRunState"], run.get("ErrorMessage", error)
        reason = f"Glue run {run_id} of {self.job_name} ended {state}" + (f": {error}" if error else "")
        context["ti"].xcom_push(key=XCOM_FAILURE, value=reason)
        raise AirflowFailException(reason)

    def defer(self, *, trigger, **kwargs):
        from airflow.providers.amazon.aws.triggers.glue import GlueJobCompleteTrigger

        from glue_cicd.triggers import QuietGlueJobCompleteTrigger

        if type(trigger) is GlueJobCompleteTrigger:
            trigger = QuietGlueJobCompleteTrigger(**trigger.serialize()[1])
        super().defer(trigger=trigger, **kwargs)


def glue_run(task_id: str, env: Environment, job_name: str, arguments: Any, **kwargs) -> GlueRunOperator:
    """A run of the Glue job ``job_name`` as deployed in ``env`` (no config update), deferred while
    it runs, with the driver's log forwarded to the task log. ``arguments`` (the deploy task's
    ``arguments``) send its outputs to a new generation. A failed run fails the task without
    retry (Glue's ``MaxRetries`` is the job's own retry policy); returns the run id.
    """
    return GlueRunOperator(
        task_id=task_id,
        job_name=job_name,
        script_args=arguments,
        aws_conn_id=env.aws_conn_id,
        region_name=env.region,
        update_config=False,
        verbose=True,
        stop_job_run_on_kill=True,
        deferrable=True,
        waiter_delay=max(1, math.ceil(env.glue_poll_seconds)),
        # Long enough for the longest run a spec allows (timeout_minutes <= 7 days).
        waiter_max_attempts=math.ceil(7 * 24 * 3600 / max(1, math.ceil(env.glue_poll_seconds))) + 1,
        retries=0,
        **kwargs,
    )
