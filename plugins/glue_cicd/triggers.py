"""The provider's Glue run trigger, without the lines it repeats on every poll."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.triggers.glue import GlueJobCompleteTrigger

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
