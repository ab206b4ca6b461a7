"""Quality checks with the datasets' Great Expectations suites: the audit of a generation before
it is published, and the check of what consumers read once it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glue_cicd.operators.base import artifact_from
from glue_cicd.operators.remote_checks import RemoteChecksOperator


class QualityGateOperator(RemoteChecksOperator):
    """Validate every output dataset of the job with its Great Expectations suite.

    ``through_catalog`` False (the audit): the data of ``generation`` in S3, before anyone reads
    it. True (the post-publish check): what the environment's catalog now points consumers at
    within ``generation``; a dataset the catalog does not point at there fails.

    A dataset over ``distributed_checks``' size is validated by the environment's checks job on
    Spark (:class:`~glue_cicd.operators.remote_checks.RemoteChecksOperator`), the others
    in-process. Results are stored as JSON in the environment's data bucket and summarised in the
    log and XCom; any failed expectation fails the task. In prod, a passed post-publish check marks the
    deployment verified.

    :param environment: ``staging`` or ``prod``.
    :param artifact: the build task's result (``build.output``).
    :param generation: the generation the run wrote (the deploy task's ``generation``).
    :param through_catalog: read through the catalog (post-publish) rather than the generation.
    :param glue_job: the audit: the Glue job whose run wrote the generation.
    :param run_id: the audit: that run (``run_staging.output``); a generation is audited only if
        its run SUCCEEDED, never the partial output of a STOPPED, TIMEOUT or FAILED one.
    :param verifies_release: a passed post-publish check in prod marks the live release verified
        (False for the check after a run's publish).
    :return: one result per dataset (suite, counts, ``result_uri``).
    """

    template_fields: Sequence[str] = ("job", "environment", "artifact", "generation_id", "glue_job", "run_id")
    ui_color = "#e6f4ea"

    def __init__(
        self,
        *,
        job: str,
        environment: str,
        artifact: Any,
        generation: Any,
        through_catalog: bool = False,
        glue_job: str | None = None,
        run_id: Any = None,
        verifies_release: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.job = job
        self.environment = environment
        self.artifact = artifact
        self.generation_id = generation
        self.through_catalog = through_catalog
        self.glue_job = glue_job
        self.run_id = run_id
        self.verifies_release = verifies_release

    def perform(self, context) -> list[dict[str, Any]]:
        from glue_cicd.errors import Refusal
        from glue_cicd.quality import DatasetUnavailableError, read_locations, suite_json, validate_table

        environments, specs = self.load()
        env = environments[self.environment]
        settings = environments.distributed_checks
        store = self.store(env)
        if self.glue_job and self.run_id:
            state = self.glue(env).run_state(self.glue_job, self.run_id)
            if state != "SUCCEEDED":
                raise Refusal(
                    f"audit refused in {env.name}; nothing was published: run {self.run_id} of {self.glue_job} "
                    f"ended {state}, so generation {self.generation_id} may be incomplete"
                )
        items = []
        for output in specs[self.job].datasets.outputs:
            about = {"output": output.name}
            try:
                where, locations = self.locations(env, output, store)
                entry = self.data_entry(store, locations, output, settings)
                if entry["distributed"]:
                    check = {"kind": "validate", "dataset": where, "suite": suite_json(output.suite), "data": entry}
                    items.append({"about": about, "check": check})
                else:
                    table = read_locations(store.conn, locations, output.format)
                    result = validate_table(table, output.suite, dataset=where)
                    items.append({"about": about, "result": result.to_dict()})
            except DatasetUnavailableError as exc:
                items.append({"about": about, "result": {"refused": str(exc)}})
        return self.run_checks(context, env, settings, items)

    def conclude(self, context, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from glue_cicd.errors import Refusal
        from glue_cicd.quality import QualityResult, describe_failure

        environments, _ = self.load()
        env = environments[self.environment]
        store = self.store(env)
        artifact = artifact_from(self.artifact)
        step = "post-publish check" if self.through_catalog else "audit"
        results, problems = [], []
        for item in items:
            name, result = item["about"]["output"], item["result"]
            if "refused" in result:
                problems.append(f"{name}: {result['refused']}")
                continue
            quality = QualityResult(**{k: result[k] for k in QualityResult.__dataclass_fields__})
            self.log.info("%s", quality.summary())
            kind = "published" if self.through_catalog else "audit"
            key = f"_quality/{self.job}/{name}/{artifact.version}/{kind}-{context['run_id']}.json"
            result["result_uri"] = store.put_json(env.data_bucket, key.replace(":", "-"), result)
            self.log.info("results stored in %s", result["result_uri"])
            results.append(result)
            if not quality.success:
                failures = "; ".join(describe_failure(f) for f in quality.failures)
                problems.append(f"{name}: {quality.failed} failed expectations: {failures}")
        ledger = self.ledger(environments)
        ledger.record(
            self.job,
            "quality",
            run_id=self.run_ref(context),
            environment=env.name,
            version=artifact.version,
            step=step,
            generation=self.generation_id,
            results=[{k: r[k] for k in ("dataset", "suite", "success", "passed", "failed")} for r in results],
        )
        if problems:
            unpublished = "" if self.through_catalog else "; nothing was published"
            raise Refusal(f"{step} failed in {env.name}{unpublished}: " + "; ".join(problems))
        if env.name == "prod" and self.through_catalog and self.verifies_release:
            live = ledger.live(self.job, "prod")
            if live is not None and live.version == artifact.version:
                ledger.set_outcome(live, "verified")
            ledger.record(self.job, "verification", run_id=self.run_ref(context), version=artifact.version)
        return results

    def locations(self, env, output, store) -> tuple[str, list[tuple[str, dict[str, str]]]]:
        """Where the data is read, in words and as ``(uri, partition values)`` locations."""
        from glue_cicd import datasets

        if not self.through_catalog:
            return datasets.generation_location(output, env, self.generation_id), [
                (datasets.generation_location(output, env, self.generation_id), {})
            ]
        where = datasets.published_generation(store.conn, self.catalog(env), env, output, self.generation_id)
        return f"{env.catalog_database}.{output.name} (generation {self.generation_id})", where
