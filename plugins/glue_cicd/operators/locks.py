"""Teardown of every run that deploys: give back the environment locks it holds."""

from __future__ import annotations

from glue_cicd.operators.base import JobOperator


class ReleaseLocksOperator(JobOperator):
    """Give back every environment lock this DAG run holds for the job (a no-op for the others)."""

    def __init__(self, *, job: str, **kwargs):
        super().__init__(**kwargs)
        self.job = job

    def perform(self, context) -> None:
        environments, _ = self.load()
        ledger = self.ledger(environments)
        for env in environments.environments:
            ledger.release(self.job, env, self.run_ref(context))
