"""Quality gate: every output dataset validated by its Great Expectations suite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glue_cicd.operators.base import JobOperator, artifact_from


class QualityGateOperator(JobOperator):
    """Validate every output dataset of the job in an environment with its Great Expectations suite.

    Results are stored as JSON in the environment's data bucket and summarised in the log and
    XCom; any failed expectation fails the task. In prod, success marks the deployment verified.

    :param environment: ``staging`` or ``prod``.
    :param artifact: the build task's result (``build.output``).
    :return: one result per dataset (suite, counts, ``result_uri``).
    """

    template_fields: Sequence[str] = ("job", "environment", "artifact")
    ui_color = "#e6f4ea"

    def __init__(self, *, job: str, environment: str, artifact: Any, **kwargs):
        super().__init__(**kwargs)
        self.job = job
        self.environment = environment
        self.artifact = artifact

    def perform(self, context) -> list[dict[str, Any]]:
        from glue_cicd.errors import Refusal
        from glue_cicd.quality import DatasetUnavailableError, describe_failure, validate_s3_dataset

        environments, specs = self.load()
        env = environments[self.environment]
        store = self.store(env)
        artifact = artifact_from(self.artifact)
        results, problems = [], []
        for output in specs[self.job].datasets.outputs:
            try:
                quality = validate_s3_dataset(store.conn, output.path_in(env), output.format, output.suite)
            except DatasetUnavailableError as exc:
                problems.append(f"{output.name}: {exc}")
                continue
            self.log.info("%s", quality.summary())
            result = quality.to_dict()
            key = f"_quality/{self.job}/{output.name}/{artifact.version}/{context['run_id']}.json".replace(":", "-")
            result["result_uri"] = store.put_json(env.data_bucket, key, result)
            self.log.info("results stored in %s", result["result_uri"])
            results.append(result)
            if not quality.success:
                failures = "; ".join(describe_failure(f) for f in quality.failures)
                problems.append(f"{output.name}: {quality.failed} failed expectations: {failures}")
        ledger = self.ledger(environments)
        ledger.record(
            self.job,
            "quality",
            run_id=self.run_ref(context),
            environment=env.name,
            version=artifact.version,
            results=[{k: r[k] for k in ("dataset", "suite", "success", "passed", "failed")} for r in results],
        )
        if problems:
            raise Refusal(f"quality gate failed in {env.name}: " + "; ".join(problems))
        if env.name == "prod":
            live = ledger.live(self.job, "prod")
            if live is not None and live.version == artifact.version:
                ledger.set_outcome(live, "verified")
            ledger.record(self.job, "verification", run_id=self.run_ref(context), version=artifact.version)
        return results
