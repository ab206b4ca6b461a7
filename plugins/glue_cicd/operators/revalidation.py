"""Operators of the revalidation DAG: re-run the quality suites on what prod has published."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from glue_cicd.operators.release import XCOM_FAILURE, ReleaseOperator, _summary


def prod_datasets() -> list[dict[str, str]]:
    """Every prod output dataset of every valid job: ``{"job", "output"}`` each."""
    from glue_cicd.spec import load_environments, load_jobs

    specs, _ = load_jobs(environments=load_environments())
    return [{"job": job, "output": o.name} for job, spec in specs.items() for o in spec.datasets.outputs]


class ListProdDatasetsOperator(BaseOperator):
    """Return the prod output datasets to validate (read when the run starts, not at parse time)."""

    def execute(self, context) -> list[dict[str, str]]:
        datasets = prod_datasets()
        self.log.info("%d prod datasets: %s", len(datasets), ", ".join(f"{d['job']}.{d['output']}" for d in datasets))
        return datasets


class RevalidateDatasetOperator(ReleaseOperator):
    """Validate the latest prod data of one output dataset with its suite.

    Stores the result JSON in the prod data bucket and a ``revalidation`` ledger entry. A failed
    expectation, or a dataset with no data, fails the task; the failure text is pushed to XCom for
    the alert.

    :param output: the output dataset's name in the job's spec.
    """

    template_fields: Sequence[str] = ("job", "output")
    ui_color = "#e6f4ea"

    def __init__(self, *, output: str, **kwargs):
        super().__init__(**kwargs)
        self.output = output

    def execute(self, context) -> dict[str, Any]:
        from glue_cicd.aws import client
        from glue_cicd.quality import DatasetUnavailableError, validate_s3_dataset

        environments, specs = self.load()
        prod = environments["prod"]
        dataset = specs[self.job].output(self.output)
        uri = dataset.path_in(prod)
        ledger = self.ledger(environments)
        live = ledger.live(self.job, "prod")
        version = live.version if live else "never released"
        s3 = client(prod, "s3")
        try:
            result = validate_s3_dataset(s3, uri, dataset.format, dataset.suite).to_dict()
        except DatasetUnavailableError as exc:
            result = {"dataset": uri, "suite": dataset.suite, "success": False, "passed": 0, "failed": 0,
                      "row_count": 0, "failures": [], "error": str(exc)}  # fmt: skip
        key = f"_quality/revalidation/{self.job}/{self.output}/{context['run_id']}.json".replace(":", "-")
        s3.put_object(Bucket=prod.data_bucket, Key=key, Body=json.dumps(result, indent=2, default=str).encode())
        result["result_uri"] = f"s3://{prod.data_bucket}/{key}"
        ledger.record(
            self.job,
            "revalidation",
            run_id=self.run_ref(context),
            dataset=self.output,
            version=version,
            success=result["success"],
            passed=result["passed"],
            failed=result["failed"],
            result_uri=result["result_uri"],
        )
        name = f"{self.job}.{self.output} (release {version})"
        if "error" in result:
            self.fail(context, f"{name} has no data to validate: {result['error']}")
        self.log.info("%s", _summary(result))
        if not result["success"]:
            failures = "; ".join(
                f"{f['expectation']} on {f.get('column')}: {f.get('unexpected_count')} unexpected, "
                f"e.g. {f.get('sample')}"
                for f in result["failures"]
            )
            self.fail(
                context,
                f"{name} failed {result['failed']} expectations of suite {dataset.suite}: {failures}. "
                f"Results: {result['result_uri']}",
            )
        return {k: result[k] for k in ("dataset", "suite", "success", "passed", "failed", "row_count")}


ALERT_SUBJECT = "[glue-cicd] prod data failed revalidation"
ALERT_MESSAGE = (
    "Revalidation of prod data failed.\n\n"
    "{{ ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index, key='" + XCOM_FAILURE + "') }}\n\n"
    "DAG run: {{ dag.dag_id }} / {{ run_id }}"
)
