"""The Airflow Asset of each output dataset in prod: one identity for the release DAGs that
publish it and the revalidation DAG that watches it."""

from __future__ import annotations

from airflow.sdk import Asset

from glue_cicd.spec import Environment, JobSpec


def output_assets(spec: JobSpec, env: Environment) -> list[Asset]:
    """One Asset per output of ``spec``: name ``<job>.<output>``, URI the output's location in ``env``."""
    return [Asset(name=f"{spec.name}.{o.name}", uri=o.path_in(env)) for o in spec.datasets.outputs]
