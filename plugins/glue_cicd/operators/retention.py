"""Retention: delete the data generations no one reads and no rollback may need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glue_cicd.operators.base import JobOperator


class CleanupGenerationsOperator(JobOperator):
    """Delete the job's expired generations in every environment, logging each one.

    A generation stays if the catalog points at it, if one of the last ``retention.keep_releases``
    deployments with data published it (a rollback target) or a run of one of them did, or if it is younger than
    ``retention.keep_days`` (a failed shadow run a reviewer may still inspect). Shadow runs' side
    outputs and temporary files (generation prefixes under the job's other data-bucket
    arguments and ``_glue_temp/``) are never published: they go by age alone.

    :return: the deleted generation prefixes per environment.
    """

    template_fields: Sequence[str] = ("job",)
    ui_color = "#f1f3f4"

    def __init__(self, *, job: str, **kwargs):
        super().__init__(**kwargs)
        self.job = job

    def perform(self, context) -> dict[str, list[str]]:
        from glue_cicd.deploy import run_arguments
        from glue_cicd.generations import generation_of

        environments, specs = self.load()
        ledger = self.ledger(environments)
        deleted: dict[str, list[str]] = {}
        for env in environments.environments.values():
            store, catalog = self.store(env), self.catalog(env)
            deployments = ledger.deployments(self.job, env.name)
            recent = [d for d in deployments if d.data][-env.retention.keep_releases :]
            releases = {d.sk for d in deployments[-env.retention.keep_releases :]} | {d.sk for d in recent}
            runs = {r["generation"] for r in ledger.runs(self.job, env.name) if r["release"] in releases}
            for output in specs[self.job].datasets.outputs:
                keep = {self.generation(context), *runs}
                for deployment in recent:
                    if output.name in deployment.data:
                        keep.add(store.get_json(deployment.data[output.name])["generation"])
                table = catalog.table(env.catalog_database, output.name)
                if table is not None:
                    keep.add(generation_of(table["StorageDescriptor"]["Location"]))
                    if table.get("PartitionKeys"):
                        locations = catalog.partition_locations(env.catalog_database, output.name)
                        keep.update(generation_of(loc) for loc in locations.values())
                deleted.setdefault(env.name, []).extend(self.expire(env, store, output.path_in(env), keep))
            if env.name == "prod":
                outputs = {f"--{o.argument}" for o in specs[self.job].datasets.outputs}
                shadow = run_arguments(specs[self.job], env, "", shadow=True)
                side = [v for k, v in shadow.items() if "_gen=" in v and k not in outputs]
                for uri in side:
                    base = uri.rsplit("_gen=", 1)[0]
                    deleted.setdefault(env.name, []).extend(self.expire(env, store, base, {self.generation(context)}))
        deleted = {env: uris for env, uris in deleted.items() if uris}
        if not deleted:
            self.log.info("no generation has expired")
        return deleted

    def expire(self, env, store, base: str, keep: set) -> list[str]:
        """Delete the expired generations under the path ``base``; return their prefixes."""
        from glue_cicd.generations import expired

        existing = self.generations_under(store, base.rstrip("/") + "/")
        gone = []
        for generation in expired(list(existing), keep=keep, keep_days=env.retention.keep_days):
            count = store.delete_prefix(existing[generation])
            self.log.info("%s: deleted generation %s (%d objects)", env.name, existing[generation], count)
            gone.append(existing[generation])
        return gone

    @staticmethod
    def generations_under(store: Any, base: str) -> dict[str, str]:
        """Generation id -> its ``s3://`` prefix, for every generation under the dataset path ``base``."""
        from glue_cicd.generations import PREFIX, generation_of

        bucket, _, prefix = base.removeprefix("s3://").partition("/")
        found = {}
        paginator = store.conn.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix + PREFIX, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                uri = f"s3://{bucket}/{common['Prefix']}"
                generation = generation_of(uri)
                if generation:
                    found[generation] = uri
        return found
