"""The Airflow Asset of each output dataset in prod: one identity for the DAGs that publish it
(releases and runs) and the DAGs that watch it (revalidation, downstream runs)."""

from __future__ import annotations

from airflow.sdk import Asset

from glue_cicd.spec import Environment, JobSpec


def output_assets(spec: JobSpec, env: Environment) -> list[Asset]:
    """One Asset per output of ``spec``: name ``<job>.<output>``, URI the output's location in ``env``."""
    return [Asset(name=f"{spec.name}.{o.name}", uri=o.path_in(env)) for o in spec.datasets.outputs]


def upstream_assets(spec: JobSpec, specs: dict[str, JobSpec], env: Environment) -> list[Asset]:
    """The Assets whose publish starts a run of ``spec`` (its ``from:`` inputs, unless it runs on its schedule only)."""
    wanted = set(spec.upstream)
    jobs = sorted({name.split(".")[0] for name in wanted})
    return [asset for job in jobs for asset in output_assets(specs[job], env) if asset.name in wanted]
