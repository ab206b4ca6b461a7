"""The provider's Glue run trigger without the lines it repeats on every poll, and a Lambda bake's."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.triggers.glue import GlueJobCompleteTrigger
from airflow.triggers.base import BaseTrigger

# What the provider's trigger logs on every poll when nothing happened.
NOTHING_NEW = ("No new Glue driver logs so far", "No new log from the Glue Job in ")
POLLING = "Polling for AWS Glue Job %s current run state: %s"


class QuietLog:
    """A logger that drops "no new log" lines and repeats of an unchanged run state, and passes
    everything else (the driver's output, state changes, errors) to ``log``."""

    def __init__(self, log: Any):
        self._log = log
        self._state: object = None

    def keep(self, message: object, args: tuple) -> bool:
        text = str(message)
        if text.startswith(NOTHING_NEW):
            return False
        if text == POLLING and args:
            if args[-1] == self._state:
                return False
            self._state = args[-1]
        return True

    def info(self, message, *args, **kwargs) -> None:
        if self.keep(message, args):
            self._log.info(message, *args, **kwargs)

    def warning(self, message, *args, **kwargs) -> None:
        if self.keep(message, args):
            self._log.warning(message, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)


class QuietGlueJobCompleteTrigger(GlueJobCompleteTrigger):
    """:class:`GlueJobCompleteTrigger` whose task log shows the driver's output and the run's state
    changes, not a "no new log" line per poll (every second on the emulator)."""

    async def run(self):
        self._log = QuietLog(self.log)
        async for event in super().run():
            yield event


class ChecksRunTrigger(QuietGlueJobCompleteTrigger):
    """A run of the checks job, whose event also carries what the task needs to resume: its
    request, environment and attempt (``airflow dags test`` resumes a task with the event alone,
    without the deferral's method kwargs)."""

    def __init__(self, *, request_uri: str, environment: str, attempt: int, **kwargs):
        super().__init__(**kwargs)
        self.resume = {"request_uri": request_uri, "environment": environment, "attempt": attempt}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        classpath, kwargs = super().serialize()
        return classpath, {**kwargs, **self.resume}

    async def run(self):
        from airflow.triggers.base import TriggerEvent

        async for event in super().run():
            yield TriggerEvent({**event.payload, "job_name": self.job_name, **self.resume})


class BakeTrigger(BaseTrigger):
    """One bake of a traffic step: polls the new version's calls and errors through the alias
    (a Lambda function's CloudWatch metrics, a state machine's executions: ``kind`` is
    ``lambda`` or ``states``) until the bake ends or its errors exceed ``max_error_rate``. The
    event carries ``passed``, the counts and ``step`` (what the task resumes from)."""

    def __init__(
        self,
        *,
        kind: str,
        name: str,
        alias: str,
        version: str,
        started: str,
        ends: str,
        max_error_rate: float,
        poll_seconds: float,
        step: int,
        aws_conn_id: str,
        region_name: str,
    ):
        super().__init__()
        self.kwargs = {
            "kind": kind,
            "name": name,
            "alias": alias,
            "version": version,
            "started": started,
            "ends": ends,
            "max_error_rate": max_error_rate,
            "poll_seconds": poll_seconds,
            "step": step,
            "aws_conn_id": aws_conn_id,
            "region_name": region_name,
        }

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", dict(self.kwargs)

    async def run(self):
        import asyncio
        from datetime import UTC, datetime, timedelta

        from airflow.triggers.base import TriggerEvent

        from glue_cicd.functions import bake_problem
        from glue_cicd.hooks.lambda_functions import LambdaFunctionHook
        from glue_cicd.hooks.state_machines import StateMachineHook

        k = self.kwargs
        hook_class = LambdaFunctionHook if k["kind"] == "lambda" else StateMachineHook
        hook = hook_class(aws_conn_id=k["aws_conn_id"], region_name=k["region_name"])
        started, ends = datetime.fromisoformat(k["started"]), datetime.fromisoformat(k["ends"])
        while True:
            now = datetime.now(UTC)
            calls, errors = await asyncio.to_thread(
                hook.version_calls, k["name"], k["alias"], k["version"], started, now + timedelta(minutes=1)
            )
            problem = bake_problem(calls, errors, k["max_error_rate"])
            if problem or now >= ends:
                self.log.info("step %s of %s:%s: %d calls, %d errors", k["step"], k["name"], k["alias"], calls, errors)
                yield TriggerEvent(
                    {
                        "passed": problem is None,
                        "problem": problem,
                        "invocations": calls,
                        "errors": errors,
                        "step": k["step"],
                    }
                )
                return
            await asyncio.sleep(min(k["poll_seconds"], max(0.5, (ends - now).total_seconds())))


class ExecutionsTrigger(BaseTrigger):
    """Waits for state machine executions to end (``DescribeExecution`` every ``poll_seconds``)
    or for ``timeout_seconds``; the event maps each execution ARN to its description (``status``
    RUNNING for those still running at the timeout)."""

    def __init__(self, *, executions: list[str], poll_seconds: float, timeout_seconds: float,
                 aws_conn_id: str, region_name: str):  # fmt: skip
        super().__init__()
        self.kwargs = {"executions": executions, "poll_seconds": poll_seconds, "timeout_seconds": timeout_seconds,
                       "aws_conn_id": aws_conn_id, "region_name": region_name}  # fmt: skip

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", dict(self.kwargs)

    async def run(self):
        import asyncio
        import time

        from airflow.triggers.base import TriggerEvent

        from glue_cicd.hooks.state_machines import StateMachineHook

        k = self.kwargs
        hook = StateMachineHook(aws_conn_id=k["aws_conn_id"], region_name=k["region_name"])
        deadline = time.monotonic() + k["timeout_seconds"]
        while True:
            described = {arn: await asyncio.to_thread(hook.execution, arn) for arn in k["executions"]}
            running = [arn for arn, d in described.items() if d["status"] == "RUNNING"]
            if not running or time.monotonic() >= deadline:
                yield TriggerEvent({"executions": described})
                return
            self.log.info("%d of %d executions still running", len(running), len(described))
            await asyncio.sleep(k["poll_seconds"])
