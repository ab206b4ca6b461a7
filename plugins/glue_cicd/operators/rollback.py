"""Rollback: restore an earlier release (data, script and full job definition) from the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from glue_cicd.operators.base import XCOM_FAILURE, JobOperator, artifact_from


class RollbackCheckOperator(JobOperator):
    """Resolve and check a rollback request before anything changes: known job, released version.

    :param environment: ``staging`` or ``prod``.
    :param version: the version asked for; empty means the release before the live one.
    :return: ``target`` (the version to restore) and ``current``, one XCom each.
    """

    template_fields: Sequence[str] = ("job", "environment", "version")

    def __init__(self, *, job: str, environment: str, version: str = "", **kwargs):
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.job = job
        self.environment = environment
        self.version = version

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.errors import Refusal
        from glue_cicd.rollback import RollbackError, choose_target

        environments, _ = self.load()
        if self.environment not in environments.environments:
            raise Refusal(f"unknown environment {self.environment!r}; known: {', '.join(environments.environments)}")
        deployments = self.ledger(environments).deployments(self.job, self.environment)
        try:
            target = choose_target(
                deployments, job=self.job, env=self.environment, version=self.version or None, failed_version=None
            )
        except RollbackError as exc:
            raise RollbackError(f"rollback refused, nothing changed: {exc}") from exc
        current = deployments[-1].version
        self.log.info("%s in %s: %s -> %s", self.job, self.environment, current, target.version)
        return {"target": target.version, "current": current}


class RollbackOperator(JobOperator):
    """Restore an earlier release of the job from the ledger: data first, then script and definition.

    After a failed release (``failed_tasks`` given) it points the catalog back to where it was
    before the release's publish (from the publish manifests of ``generation``), restores the
    release before the failed one, marks the failed one, and then fails with the reason. On
    request (no ``failed_tasks``) it restores ``version`` (its data generations and its code)
    and succeeds; in prod only with a reviewer's approval.

    :param environment: ``staging`` or ``prod``.
    :param version: the version to restore; empty means the previous release.
    :param artifact: after a failed release, the build task's result (the failed version).
    :param generation: after a failed release, the generation it published.
    :param failed_tasks: tasks whose recorded failure explains this rollback (release DAG).
    :param approval: on request in prod, the approval task's result (``approval.output``).
    """

    template_fields: Sequence[str] = ("job", "environment", "version", "artifact", "approval", "generation_id")
    ui_color = "#fce8e6"

    def __init__(
        self,
        *,
        job: str,
        environment: str,
        version: str = "",
        artifact: Any = None,
        failed_tasks: Sequence[str] = (),
        approval: Any = None,
        generation: Any = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.job = job
        self.environment = environment
        self.version = version
        self.artifact = artifact
        self.failed_tasks = list(failed_tasks)
        self.approval = approval
        self.generation_id = generation

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.approval import check_approval
        from glue_cicd.operators.publish import stored_manifests
        from glue_cicd.rollback import RollbackError, restore

        environments, specs = self.load()
        env = environments[self.environment]
        ledger = self.ledger(environments)
        if not self.failed_tasks and env.name == "prod":
            approver = check_approval(
                self.approval or None,
                triggered_by=self.triggered_by(context),
                require_recorded=env.require_recorded_approval,
            )
            ledger.record(
                self.job, "approval", run_id=self.run_ref(context), who=(approver or {}).get("name", "not recorded"),
                version=self.version, recorded=approver is not None, action="rollback",
            )  # fmt: skip
        release_version = artifact_from(self.artifact).version if self.failed_tasks and self.artifact else None
        if self.failed_tasks and release_version is None:
            raise AirflowFailException(f"the release of {self.job} built nothing, so {env.name} is unchanged")
        store = self.store(env)
        failed_data = {}
        if self.failed_tasks and self.generation_id:
            outputs = [o.name for o in specs[self.job].datasets.outputs]
            failed_data = stored_manifests(store, env, self.job, outputs, self.generation_id)
            live = ledger.live(self.job, env.name)
            if not failed_data and (live is None or live.run_id != self.run_ref(context)):
                raise AirflowSkipException(
                    f"this release published nothing and deployed nothing to {env.name}: nothing to roll back"
                )
        try:
            outcome = restore(
                ledger,
                self.glue(env),
                store,
                env,
                self.job,
                owner=self.run_ref(context),
                version=self.version or None,
                failed_version=release_version,
                who=self.triggered_by(context) or "",
                catalog=self.catalog(env),
                failed_data=failed_data,
            )
        except RollbackError as exc:
            if not self.failed_tasks:
                raise
            outcome = {"restored": None, "reason": str(exc)}
        self.log.info("rollback: %s", outcome)
        if self.failed_tasks:
            reasons = [
                f"{task}: {reason}"
                for task in self.failed_tasks
                if (reason := context["ti"].xcom_pull(task_ids=task, key=XCOM_FAILURE))
            ]
            raise AirflowFailException(
                f"release of {self.job} {release_version} failed ({'; '.join(reasons) or 'see failed tasks'}); "
                f"{outcome.get('summary') or outcome.get('reason')}"
            )
        return outcome
