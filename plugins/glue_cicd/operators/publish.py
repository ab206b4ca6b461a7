"""Publish: point the catalog at the audited generation; in prod also promote the job definition."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glue_cicd.operators.deploy import DeployGlueJobOperator


def manifest_key(job: str, dataset: str, generation: str) -> str:
    """Where (in the environment's data bucket) the publish of ``generation`` stores its manifest."""
    return f"_publish/{job}/{dataset}/{generation}.json"


def stored_manifests(store, env, job: str, datasets: list[str], generation: str) -> dict[str, str]:
    """The manifest URI of each of ``datasets`` whose publish of ``generation`` began (dataset -> URI)."""
    keys = {name: manifest_key(job, name, generation) for name in datasets}
    return {
        name: f"s3://{env.data_bucket}/{key}"
        for name, key in keys.items()
        if store.read_json(env.data_bucket, key) is not None
    }


class PublishOperator(DeployGlueJobOperator):
    """Publish the audited generation of every output dataset through the catalog.

    In prod, first checks the approval (four eyes, recorded where required) and the artifact's
    sha256, and after the data promotes the job definition (the same artifact); if that fails,
    the data is put back. In staging the definition is already deployed: only data is published.
    Each dataset's publish manifest (before- and after-image) is stored before the first catalog
    call, so a failure midway and any later rollback can restore what consumers read.

    :param environment: ``staging`` or ``prod``.
    :param artifact: the build task's result (``build.output``).
    :param generation: the generation to publish (the deploy task's ``generation``).
    :param approval: prod: the approval task's result (``approval.output``).
    :param data_diff: prod: the data diff's results; publishing is refused if a table changed
        since the diff looked at it.
    :return: one entry per dataset: ``dataset``, ``table``, ``outcome``, ``manifest``.
    """

    template_fields: Sequence[str] = (*DeployGlueJobOperator.template_fields, "generation_id", "approval", "data_diff")
    ui_color = "#fef7e0"
    kind = "promotion"

    def __init__(
        self,
        *,
        job: str,
        environment: str,
        generation: Any,
        approval: Any = None,
        data_diff: Any = None,
        **kwargs,
    ):
        kwargs.setdefault("multiple_outputs", False)
        super().__init__(job=job, environment=environment, **kwargs)
        self.generation_id = generation
        self.approval = approval
        self.data_diff = data_diff

    def perform(self, context) -> list[dict[str, Any]]:
        from glue_cicd.operators.base import artifact_from

        environments, specs = self.load()
        env = environments[self.environment]
        artifact = artifact_from(self.artifact)
        if env.name == "prod":
            self.check_approval(context, environments, artifact)
        ledger = self.ledger(environments)
        ledger.acquire(self.job, env.name, self.run_ref(context))
        published = [self.publish(context, env, output, artifact) for output in specs[self.job].datasets.outputs]
        data = {p["dataset"]: p["manifest"] for p in published}
        if env.name == "prod":
            try:
                self.deploy(context, environments, specs, artifact, data=data)
            except Exception:
                self.log.error("promoting the job definition failed: putting the published data back")
                self.undo(env, [p["manifest"] for p in published])
                raise
        else:
            live = ledger.live(self.job, env.name)
            if live is not None and live.version == artifact.version:
                ledger.set_data(live, data)
        ledger.record(
            self.job, "publish", run_id=self.run_ref(context), environment=env.name, version=artifact.version,
            generation=self.generation_id, datasets=published,
        )  # fmt: skip
        return published

    def check_approval(self, context, environments, artifact) -> None:
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
            raise type(exc)(f"publish refused, prod unchanged: {exc}") from exc
        self.ledger(environments).record(
            self.job,
            "approval",
            run_id=self.run_ref(context),
            who=(approver or {}).get("name", "not recorded"),
            version=artifact.version,
            recorded=approver is not None,
        )

    def publish(self, context, env, output, artifact) -> dict[str, Any]:
        """Publish one dataset's generation; reuses the stored manifest on a retry."""
        from glue_cicd import datasets, publish
        from glue_cicd.errors import Refusal

        store, catalog = self.store(env), self.catalog(env)
        generation = self.generation_id
        location = datasets.generation_location(output, env, generation)
        key = manifest_key(self.job, output.name, generation)
        manifest_uri = f"s3://{env.data_bucket}/{key}"
        stored = store.read_json(env.data_bucket, key)
        if stored is not None:
            plan = publish.PublishPlan.from_dict(stored).resume(catalog.table(env.catalog_database, output.name))
            self.log.info("%s: resuming the publish of %s from its manifest %s", output.name, generation, manifest_uri)
        else:
            schema = datasets.generation_schema(store.conn, location, output.format, output.partition_by)
            columns, keys = publish.columns_of(schema, output.partition_by)
            desired = publish.table_input(
                output.name,
                columns=columns,
                partition_keys=keys,
                location=output.path_in(env).rstrip("/") + "/" if output.partition_by else location,
                fmt=output.format,
                generation=generation,
                version=artifact.version,
            )
            written = datasets.written_partitions(store.conn, location, output.partition_by)
            if output.partition_by and not written:
                keys = "/".join(output.partition_by)
                raise Refusal(f"{output.name}: generation {location} holds no {keys} partitions")
            seen = self.seen_by_diff(output.name)
            current = catalog.table(env.catalog_database, output.name)
            if seen is not None and seen["table_version"] is None and current is not None:
                raise publish.ConcurrentChangeError(
                    f"{env.catalog_database}.{output.name} was created by someone else after the data diff: "
                    "nothing published; re-run the release"
                )
            joined = ["/".join(v) for v in written]
            now = catalog.partition_locations(env.catalog_database, output.name, joined) if current else {}
            plan = publish.plan_publish(
                database=env.catalog_database,
                table=output.name,
                generation=generation,
                current=current,
                desired=desired,
                written=written,
                current_partitions=seen["published_partitions"] if seen is not None else now,
                expected_version=seen["table_version"] if seen is not None else None,
            )
            store.put_json(env.data_bucket, key, plan.to_dict())  # before the first catalog call
        outcome = catalog.apply(plan)
        self.log.info(
            "%s.%s -> %s: %s (%d partitions); manifest %s",
            env.catalog_database, output.name, location, outcome, len(plan.partitions), manifest_uri,
        )  # fmt: skip
        return {"dataset": output.name, "table": f"{env.catalog_database}.{output.name}", "outcome": outcome,
                "generation": generation, "manifest": manifest_uri}  # fmt: skip

    def seen_by_diff(self, dataset: str) -> dict[str, Any] | None:
        for entry in self.data_diff or []:
            if entry["dataset"] == dataset:
                return entry
        return None

    def undo(self, env, manifests: list[str]) -> None:
        from glue_cicd import publish

        store, catalog = self.store(env), self.catalog(env)
        for uri in manifests:
            manifest = store.get_json(uri)
            current = catalog.table(manifest["database"], manifest["table"])
            keys = list(manifest["partitions"])
            now = catalog.partition_locations(manifest["database"], manifest["table"], keys) if current else {}
            plan = publish.plan_restore([manifest], current=current, current_partitions=now)
            catalog.apply(plan, expect_before=False)
