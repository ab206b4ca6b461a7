"""Deploy: the full Glue job definition rendered from the spec, under the environment's lock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glue_cicd.operators.base import JobOperator, artifact_from


class DeployGlueJobOperator(JobOperator):
    """Create or update the environment's Glue job with the full definition from the spec.

    Takes the job's lock for the environment first. Refuses to overwrite a job edited outside
    the pipeline (drift) unless ``allow_drift``.

    :param environment: ``staging`` or ``prod``.
    :param artifact: the build task's result (``build.output``).
    :param allow_drift: deploy over a drifted job deliberately.
    :return: ``glue_job``, ``version`` and ``outcome`` (created, updated, unchanged).
    """

    template_fields: Sequence[str] = ("job", "environment", "artifact", "allow_drift")
    kind = "deployment"

    def __init__(self, *, job: str, environment: str, artifact: Any, allow_drift: Any = False, **kwargs):
        super().__init__(**kwargs)
        self.job = job
        self.environment = environment
        self.artifact = artifact
        self.allow_drift = allow_drift

    def perform(self, context) -> dict[str, Any]:
        environments, specs = self.load()
        artifact = artifact_from(self.artifact)
        self.before_deploy(context, environments, artifact)
        return self.deploy(context, environments, specs, artifact)

    def before_deploy(self, context, environments, artifact) -> None:
        """Checks a subclass makes before anything changes."""

    def deploy(self, context, environments, specs, artifact) -> dict[str, Any]:
        from glue_cicd import deploy
        from glue_cicd.errors import Refusal

        env = environments[self.environment]
        ledger = self.ledger(environments)
        ledger.acquire(self.job, env.name, self.run_ref(context))
        glue = self.glue(env)
        name = env.glue_job_name(self.job)
        desired = deploy.normalise(deploy.render_definition(specs[self.job], env, artifact, specs))
        live = glue.live_definition(name)
        last = ledger.live(self.job, env.name)
        if live is not None and live != desired:
            drift = deploy.check_drift(live, last.definition if last else None, name)
            if drift and self.allow_drift is not True:
                raise Refusal(
                    f"{name} was changed outside the pipeline (drift), nothing deployed; "
                    "set the allow_drift Param to overwrite it:\n" + "\n".join(drift)
                )
            if drift:
                self.log.warning("overwriting drifted job %s:\n%s", name, "\n".join(drift))
        outcome = glue.apply(name, desired, deploy.tags_for(env, artifact))
        self.log.info("%s: %s (version %s)", name, outcome, artifact.version)
        if last is None or last.version != artifact.version or last.definition != desired:
            ledger.record_deployment(
                job=self.job,
                environment=env.name,
                version=artifact.version,
                artifact_sha256=artifact.sha256,
                script_location=artifact.script_uri,
                definition=desired,
                run_id=self.run_ref(context),
                who=self.triggered_by(context) or "",
                kind=self.kind,
            )
        return {"glue_job": name, "version": artifact.version, "outcome": outcome}


class PromoteOperator(DeployGlueJobOperator):
    """Deploy the exact staging artifact to prod, after checking the approval and the artifact's sha256.

    :param approval: the approval task's result (``approval.output``); None when it was marked
        successful by hand, which only an environment without ``require_recorded_approval`` accepts.
    """

    template_fields: Sequence[str] = (*DeployGlueJobOperator.template_fields, "approval")
    kind = "promotion"

    def __init__(self, *, job: str, approval: Any, **kwargs):
        super().__init__(job=job, environment="prod", **kwargs)
        self.approval = approval

    def before_deploy(self, context, environments, artifact) -> None:
        from glue_cicd.approval import ApprovalRefused, check_approval
        from glue_cicd.build import BuildError

        prod = environments["prod"]
        try:
            approver = check_approval(
                self.approval or None,
                triggered_by=self.triggered_by(context),
                require_recorded=prod.require_recorded_approval,
            )
            self.store(environments["staging"]).verify(artifact)
        except (ApprovalRefused, BuildError) as exc:
            raise type(exc)(f"promotion refused, prod unchanged: {exc}") from exc
        self.ledger(environments).record(
            self.job,
            "approval",
            run_id=self.run_ref(context),
            who=(approver or {}).get("name", "not recorded"),
            version=artifact.version,
            recorded=approver is not None,
        )
