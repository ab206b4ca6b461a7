"""Deploy: the full Glue job definition rendered from the spec (staging, and prod's shadow job)."""

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
    :return: ``glue_job``, ``version``, ``outcome`` (created, updated, unchanged), and the
        ``generation`` this DAG run writes with the run ``arguments`` that send it there.
    """

    template_fields: Sequence[str] = ("job", "environment", "artifact", "allow_drift")
    kind = "deployment"

    def __init__(self, *, job: str, environment: str, artifact: Any, allow_drift: Any = False, **kwargs):
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.job = job
        self.environment = environment
        self.artifact = artifact
        self.allow_drift = allow_drift

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd import deploy

        environments, specs = self.load()
        artifact = artifact_from(self.artifact)
        result = self.deploy(context, environments, specs, artifact)
        generation = self.generation(context)
        arguments = deploy.run_arguments(specs[self.job], environments[self.environment], generation)
        return {**result, "generation": generation, "arguments": arguments}

    def deploy(self, context, environments, specs, artifact, data: dict[str, str] | None = None) -> dict[str, Any]:
        """Deploy under the lock and record it (with the publish manifests of ``data``)."""
        from glue_cicd import deploy
        from glue_cicd.errors import Refusal

        env = environments[self.environment]
        ledger = self.ledger(environments)
        ledger.acquire(self.job, env.name, self.run_ref(context))
        glue = self.glue(env)
        name = env.glue_job_name(self.job)
        desired = deploy.normalise(deploy.render_definition(specs[self.job], env, artifact))
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
        if data or last is None or last.version != artifact.version or last.definition != desired:
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
                data=data,
            )
        return {"glue_job": name, "version": artifact.version, "outcome": outcome}


class ShadowDeployOperator(JobOperator):
    """Deploy the candidate version as prod's shadow job: prod's inputs, the shadow role, its own
    name. Prod's job definition is not touched; the shadow run writes a generation only.

    :param artifact: the build task's result (``build.output``).
    :return: ``glue_job``, ``version``, ``outcome``, ``generation`` and run ``arguments``.
    """

    template_fields: Sequence[str] = ("job", "artifact")

    def __init__(self, *, job: str, artifact: Any, **kwargs):
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.job = job
        self.artifact = artifact

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd import deploy

        environments, specs = self.load()
        prod = environments["prod"]
        artifact = artifact_from(self.artifact)
        name = prod.shadow_job_name(self.job)
        definition = deploy.render_definition(specs[self.job], prod, artifact, role=prod.shadow_glue_role_arn)
        definition["Description"] = f"Shadow runs of {self.job} candidates (unapproved code): writes generations only"
        outcome = self.glue(prod).apply(name, definition, {**deploy.tags_for(prod, artifact), "Shadow": "true"})
        generation = self.generation(context)
        self.log.info("%s: %s (version %s); the run writes generation %s", name, outcome, artifact.version, generation)
        return {
            "glue_job": name,
            "version": artifact.version,
            "outcome": outcome,
            "generation": generation,
            "arguments": deploy.run_arguments(specs[self.job], prod, generation, shadow=True),
        }
