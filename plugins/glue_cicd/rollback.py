"""Restore an earlier release of a job from the ledger: its data (the catalog pointed back at the
generations it published) first, then its script and full job definition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glue_cicd import deploy
from glue_cicd.build import Artifact, BuildError
from glue_cicd.errors import Refusal
from glue_cicd.ledger import Deployment, LedgerError

if TYPE_CHECKING:
    from glue_cicd.hooks.artifacts import ArtifactStoreHook
    from glue_cicd.hooks.catalog import CatalogHook
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


def runs_to_undo(runs: list[dict[str, Any]], target: Deployment) -> list[dict[str, Any]]:
    """The run publishes a rollback to ``target`` undoes: those after it by other releases' runs.

    The target's own runs stay: they are what its code published since it went live.
    """
    return [r for r in runs if r["at"] > target.at and r["release"] != target.sk and r["outcome"] == "published"]


def restore_data(
    artifacts: ArtifactStoreHook,
    catalog: CatalogHook,
    *,
    later: dict[str, list[str]],
    target: dict[str, str] | None = None,
    kept: dict[str, list[str]] | None = None,
) -> list[str]:
    """Point each dataset's catalog table back: undo the publishes of ``later`` (dataset -> manifest
    URIs, newest first), re-apply ``target``'s (dataset -> manifest URI), then those of ``kept``
    (dataset -> manifest URIs, oldest first: the target release's own runs).

    Every generation the result would point at must still exist (retention may have deleted
    it): checked for all datasets before anything changes.
    """
    from glue_cicd.generations import generation_of
    from glue_cicd.publish import plan_restore

    plans = []
    for dataset in sorted(set(later) | set(target or {})):
        undo = [artifacts.get_json(uri) for uri in later.get(dataset, [])]
        chosen = artifacts.get_json(target[dataset]) if target and dataset in target else None
        then = [artifacts.get_json(uri) for uri in (kept or {}).get(dataset, [])] if chosen else []
        first = chosen or undo[-1]
        current = catalog.table(first["database"], first["table"])
        keys = sorted({k for m in [*undo, *([chosen] if chosen else []), *then] for k in m["partitions"]})
        now = catalog.partition_locations(first["database"], first["table"], keys) if current else {}
        plan = plan_restore(undo, target=chosen, then=then, current=current, current_partitions=now)
        wanted = [after for _, after in plan.partitions.values() if after]
        if plan.table_after and not plan.partitioned:
            wanted.append(plan.table_after["StorageDescriptor"]["Location"])
        for generation in sorted({g for g in map(generation_of, wanted) if g}):
            location = next(loc for loc in wanted if generation_of(loc) == generation)
            prefix = location[: location.index(f"_gen={generation}/") + len(f"_gen={generation}/")]
            if not artifacts.has_objects(prefix):
                raise RollbackError(
                    f"{dataset}: generation {prefix} no longer exists (retention deleted it); nothing was changed"
                )
        plans.append((dataset, plan))
    lines = []
    for _dataset, plan in plans:
        outcome = catalog.apply(plan, expect_before=False)
        lines.append(f"{plan.database}.{plan.table}: {outcome} ({len(plan.partitions)} partitions)")
    return lines


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
    catalog: CatalogHook | None = None,
    failed_data: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Make ``env`` run an earlier release again; a no-op if it already does.

    Without ``failed_version`` (a requested rollback) the target is ``version``, else the release
    before the live one. With ``failed_version`` (a release that failed): if that release reached
    the environment (the ledger's latest deployment is ``owner``'s), it is marked failed and the
    latest good release before it is restored; if it never got recorded there, the ledger's
    latest deployment is restored in case the job was changed before the failure. Takes the
    environment lock (re-entrant for ``owner``).

    Data comes first, with ``catalog``: after a failed release, the publishes of ``failed_data``
    (dataset -> manifest URI) are undone; on request, the publishes recorded after the target
    (releases, and the runs of releases other than the target) are undone and the target's own
    are re-applied.
    """
    data_lines: list[str] = []
    if catalog is not None and failed_version is not None and failed_data:
        ledger.acquire(job, env.name, owner)
        data_lines = restore_data(artifacts, catalog, later={d: [uri] for d, uri in failed_data.items()})
    deployments = ledger.deployments(job, env.name)
    try:
        if failed_version is None or not deployments:
            target = choose_target(deployments, job=job, env=env.name, version=version, failed_version=None)
        elif deployments[-1].run_id == owner:
            ledger.set_outcome(deployments[-1], "failed")
            deployments = ledger.deployments(job, env.name)
            target = choose_target(deployments, job=job, env=env.name, version=None, failed_version=failed_version)
        else:
            target = deployments[-1]
    except RollbackError as exc:
        if not data_lines:
            raise
        raise RollbackError(f"data restored ({', '.join(data_lines)}); code not restored: {exc}") from exc
    bucket, _, key = target.script_location[5:].partition("/")
    artifact = Artifact(job, target.version, target.artifact_sha256, bucket)
    if key != artifact.prefix + "job.py":
        raise RollbackError(f"ledger entry {target.sk} points at an unexpected script {target.script_location}")
    try:
        artifacts.verify(artifact)
        ledger.acquire(job, env.name, owner)
    except (BuildError, LedgerError) as exc:
        raise RollbackError(f"cannot restore {job} {target.version} in {env.name}: {exc}") from exc
    undone_runs: list[dict[str, Any]] = []
    if catalog is not None and failed_version is None:
        after = [(d.at, d.data) for d in deployments if d.at > target.at and d.data and d.kind != "rollback"]
        runs = ledger.runs(job, env.name)
        undone_runs = runs_to_undo(runs, target)
        after += [(run["at"], run["data"]) for run in undone_runs]
        later: dict[str, list[str]] = {}
        for _, data in sorted(after, key=lambda item: item[0], reverse=True):
            for dataset, uri in data.items():
                later.setdefault(dataset, []).append(uri)
        kept: dict[str, list[str]] = {}
        for run in sorted(runs, key=lambda r: r["at"]):
            if run["release"] == target.sk and run["outcome"] == "published":
                for dataset, uri in run["data"].items():
                    kept.setdefault(dataset, []).append(uri)
        if later or target.data:
            data_lines = restore_data(artifacts, catalog, later=later, target=target.data, kept=kept)
        for run in undone_runs:
            ledger.set_run_outcome(run, "rolled_back")
    data = f"; data: {', '.join(data_lines)}" if data_lines else ""
    name = env.glue_job_name(job)
    if glue.live_definition(name) == target.definition:
        summary = f"{name} already runs {target.version}{data}"
        return {"restored": target.version, "changed": bool(data_lines), "summary": summary, "data": data_lines}
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
    summary = f"{name} rolled back to {target.version}{data}"
    return {"restored": target.version, "changed": True, "summary": summary, "data": data_lines}
