"""Operators of the revalidation DAG: re-run the quality suites on what prod has published."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from airflow.providers.amazon.aws.notifications.sns import SnsNotifier
from airflow.sdk import BaseOperator

from glue_cicd.operators.base import XCOM_FAILURE, JobOperator
from glue_cicd.operators.remote_checks import RemoteChecksOperator


def prod_datasets() -> list[dict[str, str]]:
    """Every prod output dataset of every valid job live in prod: ``{"job", "dataset"}`` each.

    A job never released to prod has nothing published for consumers, so nothing to revalidate.
    """
    from glue_cicd.spec import load_environments, load_jobs

    environments = load_environments()
    specs, _ = load_jobs(environments=environments)
    ledger = JobOperator.ledger(environments)
    live = [job for job in specs if ledger.live(job, "prod") is not None]
    return [{"job": job, "dataset": o.name} for job in live for o in specs[job].datasets.outputs]


class ListProdDatasetsOperator(BaseOperator):
    """Return the prod output datasets to validate (read when the run starts, not at parse time)."""

    def execute(self, context) -> list[dict[str, str]]:
        datasets = prod_datasets()
        self.log.info(
            "%d datasets of jobs live in prod: %s",
            len(datasets),
            ", ".join(f"{d['job']}.{d['dataset']}" for d in datasets),
        )
        return datasets


class RevalidateDatasetOperator(RemoteChecksOperator):
    """Validate what prod consumers read of one output dataset (through the catalog) with its suite.

    Stores the result JSON in the prod data bucket and a ``revalidation`` ledger entry. A failed
    expectation, or a dataset with no data, fails the task; the failure text is pushed to XCom for
    the alert. A table over ``distributed_checks``' size is validated by the checks job.

    :param dataset: the output dataset's name in the job's spec.
    """

    template_fields: Sequence[str] = ("job", "dataset")
    ui_color = "#e6f4ea"

    def __init__(self, *, job: str, dataset: str, **kwargs):
        super().__init__(**kwargs)
        self.job = job
        self.dataset = dataset

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.datasets import published
        from glue_cicd.quality import DatasetUnavailableError, read_locations, suite_json, validate_table

        environments, specs = self.load()
        prod, settings = environments["prod"], environments.distributed_checks
        output = specs[self.job].output(self.dataset)
        store = self.store(prod)
        table_name = f"{prod.catalog_database}.{output.name}"
        about = {"table": table_name, "suite": output.suite}
        try:
            table, _, locations = published(self.catalog(prod), prod, output)
            if locations is None:
                raise DatasetUnavailableError(
                    f"catalog table {table_name} " + ("does not exist" if table is None else "has no partitions")
                )
            entry = self.data_entry(store, locations, output, settings)
            if entry["distributed"]:
                check = {"kind": "validate", "dataset": table_name, "suite": suite_json(output.suite), "data": entry}
                return self.run_checks(context, prod, settings, [{"about": about, "check": check}])
            data = read_locations(store.conn, locations, output.format)
            result = validate_table(data, output.suite, dataset=table_name)
            item = {"about": about, "result": result.to_dict()}
        except DatasetUnavailableError as exc:
            item = {"about": about, "result": {"refused": str(exc)}}
        return self.conclude(context, [item])

    def conclude(self, context, items: list[dict[str, Any]]) -> dict[str, Any]:
        from glue_cicd.errors import Refusal
        from glue_cicd.quality import QualityResult, describe_failure

        environments, _ = self.load()
        prod = environments["prod"]
        (item,) = items
        result, table_name, suite = item["result"], item["about"]["table"], item["about"]["suite"]
        ledger = self.ledger(environments)
        live = ledger.live(self.job, "prod")
        version = live.version if live else "never released"
        name = f"{self.job}.{self.dataset} (release {version})"
        problem = None
        if "refused" in result:
            problem = f"{name} has no data to validate in {table_name}: {result['refused']}"
            result = {"dataset": table_name, "suite": suite, "success": False, "passed": 0, "failed": 0,
                      "row_count": 0, "failures": [], "error": result["refused"]}  # fmt: skip
        else:
            quality = QualityResult(**{k: result[k] for k in QualityResult.__dataclass_fields__})
            self.log.info("%s", quality.summary())
            if not quality.success:
                failures = "; ".join(describe_failure(f) for f in quality.failures)
                problem = f"{name} failed {quality.failed} expectations of suite {suite}: {failures}"
        key = f"_quality/revalidation/{self.job}/{self.dataset}/{context['run_id']}.json".replace(":", "-")
        result_uri = self.store(prod).put_json(prod.data_bucket, key, result)
        ledger.record(
            self.job,
            "revalidation",
            run_id=self.run_ref(context),
            dataset=self.dataset,
            version=version,
            success=result["success"],
            passed=result["passed"],
            failed=result["failed"],
            result_uri=result_uri,
        )
        if problem:
            raise Refusal(f"{problem}. Results: {result_uri}")
        return {k: result[k] for k in ("dataset", "suite", "success", "passed", "failed", "row_count")}


class AlertNotifier(SnsNotifier):
    """The provider's SNS notifier, rendering its templates anew for every failed task.

    ``SnsNotifier`` renders its template fields in place, so one instance shared by the mapped
    tasks would send the first failure's message for every later one in the same process.
    """

    def __call__(self, *args, **kwargs):
        return SnsNotifier.__call__(copy.copy(self), *args, **kwargs)


ALERT_SUBJECT = "[glue-cicd] prod data failed revalidation"
ALERT_MESSAGE = (
    "Revalidation of prod data failed.\n\n"
    "{{ ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index, key='" + XCOM_FAILURE + "') }}\n\n"
    "DAG run: {{ dag.dag_id }} / {{ run_id }}"
)
