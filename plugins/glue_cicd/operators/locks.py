"""The job's environment locks: waiting for prod's before a publish, and giving them all back."""

from __future__ import annotations

import math
from collections.abc import Sequence

from airflow.sdk.bases.sensor import BaseSensorOperator

from glue_cicd.ledger import LOCK_TTL_SECONDS
from glue_cicd.operators.base import JobOperator
from glue_cicd.spec import Environment


class ReleaseLocksOperator(JobOperator):
    """Give back every environment lock this DAG run holds for the job (a no-op for the others)."""

    def __init__(self, *, job: str, **kwargs):
        super().__init__(**kwargs)
        self.job = job

    def perform(self, context) -> None:
        from glue_cicd.spec import load_environments

        environments = load_environments()  # the job (or lambda:<function>) need not be valid
        ledger = self.ledger(environments)
        for env in environments.environments:
            ledger.release(self.job, env, self.run_ref(context))


class ProdLockSensor(BaseSensorOperator):
    """Wait until this DAG run holds the job's prod lock (while a release or a run of the same job
    publishes, it holds it). Re-entrant, given back by the DAG's teardown; an expired lock is taken over.
    """

    template_fields: Sequence[str] = ("job",)
    ui_color = "#f1f3f4"

    def __init__(self, *, job: str, **kwargs):
        super().__init__(**kwargs)
        self.job = job

    def poke(self, context) -> bool:
        from glue_cicd.ledger import LockHeldError
        from glue_cicd.spec import load_environments

        ledger = JobOperator.ledger(load_environments())
        try:
            ledger.acquire(self.job, "prod", JobOperator.run_ref(context))
        except LockHeldError as exc:
            self.log.info("waiting for the lock: %s", exc)
            return False
        return True


def wait_for_prod_lock(job: str, prod: Environment) -> ProdLockSensor:
    """The ``wait_for_lock`` task before a publish in prod: polled at the environment's Glue poll
    rate, for as long as a lock can be held."""
    return ProdLockSensor(
        task_id="wait_for_lock",
        job=job,
        poke_interval=max(1, math.ceil(prod.glue_poll_seconds)),
        timeout=LOCK_TTL_SECONDS,
    )
