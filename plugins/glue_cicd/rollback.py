"""Restore an earlier release of a job (script and full job definition) from the ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glue_cicd import deploy
from glue_cicd.build import Artifact, BuildError
from glue_cicd.errors import Refusal
from glue_cicd.ledger import Deployment, LedgerError

if TYPE_CHECKING:
    from glue_cicd.hooks.artifacts import ArtifactStoreHook
    from glue_cicd.hooks.glue_jobs import GlueJobDefinitionHook
    from glue_cicd.hooks.ledger import LedgerHook
    from glue_cicd.spec import Environment


class RollbackError(Refusal):
    """Nothing valid to restore; nothing was changed."""


def choose_target(
    deployments: list[Deployment], *, job: str, env: str, version: str | None, failed_version: str | None
) -> Deployment:
    """The deployment to restore.

    ``version`` given: its latest deployment. ``failed_version`` given (a release failed): the
    latest deployment of another version that did not fail. Otherwise the release before the
    live one.
    """
    if not deployments:
        raise RollbackError(f"{job} has never been released to {env}: there is nothing to roll back to")
    if version:
        matches = [d for d in deployments if d.version == version]
        if not matches:
            known = list(dict.fromkeys(d.version for d in reversed(deployments)))
            raise RollbackError(
                f"version {version!r} of {job} was never deployed to {env}; released versions (newest first): "
                + ", ".join(known)
            )
        return matches[-1]
    avoid = failed_version or deployments[-1].version
    for deployment in reversed(deployments):
        if deployment.version != avoid and deployment.outcome not in ("failed", "rolled_back"):
            return deployment
    raise RollbackError(f"{job} has no earlier release in {env} than {avoid}: there is nothing to roll back to")


def restore(
    ledger: LedgerHook,
    glue: GlueJobDefinitionHook,
    artifacts: ArtifactStoreHook,
    env: Environment,
    job: str,
    *,
    owner: str,
    version: str | None = None,
    failed_version: str | None = None,
    who: str = "",
) -> dict[str, Any]:
    """Make ``env`` run an earlier release again; a no-op if it already does.

    Without ``failed_version`` (a requested rollback) the target is ``version``, else the release
    before the live one. With ``failed_version`` (a release that failed): if that release reached
    the environment (the ledger's latest deployment is ``owner``'s), it is marked failed and the
    latest good release before it is restored; if it never got recorded there, the ledger's
    latest deployment is restored in case the job was changed before the failure. Takes the
    environment lock (re-entrant for ``owner``).
    """
    deployments = ledger.deployments(job, env.name)
    if failed_version is None or not deployments:
        target = choose_target(deployments, job=job, env=env.name, version=version, failed_version=None)
    elif deployments[-1].run_id == owner:
        ledger.set_outcome(deployments[-1], "failed")
        deployments = ledger.deployments(job, env.name)
        target = choose_target(deployments, job=job, env=env.name, version=None, failed_version=failed_version)
    else:
        target = deployments[-1]
    bucket, _, key = target.script_location[5:].partition("/")
    artifact = Artifact(job, target.version, target.artifact_sha256, bucket)
    if key != artifact.prefix + "job.py":
        raise RollbackError(f"ledger entry {target.sk} points at an unexpected script {target.script_location}")
    try:
        artifacts.verify(artifact)
        ledger.acquire(job, env.name, owner)
    except (BuildError, LedgerError) as exc:
        raise RollbackError(f"cannot restore {job} {target.version} in {env.name}: {exc}") from exc
    name = env.glue_job_name(job)
    if glue.live_definition(name) == target.definition:
        return {"restored": target.version, "changed": False, "summary": f"{name} already runs {target.version}"}
    if deployments[-1].outcome not in ("failed",) and deployments[-1].version != target.version:
        ledger.set_outcome(deployments[-1], "rolled_back")
    glue.apply(name, target.definition, deploy.tags_for(env, artifact))
    ledger.record_deployment(
        job=job,
        environment=env.name,
        version=target.version,
        artifact_sha256=target.artifact_sha256,
        script_location=target.script_location,
        definition=target.definition,
        run_id=owner,
        who=who,
        kind="rollback",
    )
    return {"restored": target.version, "changed": True, "summary": f"{name} rolled back to {target.version}"}
