"""Revalidation of production data: every prod output dataset of every job, re-checked by its
Great Expectations suite on a schedule and whenever a release publishes a dataset.

Wiring only. A failing dataset fails its mapped task and sends one alert to the SNS topic of
``infrastructure/``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, AssetAny, AssetOrTimeSchedule, CronTriggerTimetable

from glue_cicd.assets import output_assets
from glue_cicd.operators.revalidation import (
    ALERT_MESSAGE,
    ALERT_SUBJECT,
    AlertNotifier,
    ListProdDatasetsOperator,
    RevalidateDatasetOperator,
)
from glue_cicd.spec import load_environments, load_jobs

environments = load_environments()
prod = environments["prod"]
specs, _ = load_jobs(environments=environments)
published = [asset for spec in specs.values() for asset in output_assets(spec, prod)]

with DAG(
    dag_id="revalidate_prod_datasets",
    description="Re-run the quality suites on every prod output dataset",
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(environments.revalidation_schedule, timezone="UTC"),
        assets=AssetAny(*published),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,  # runs only when asked (or, revalidation, on its schedule)
    max_active_runs=1,
    tags=["glue", "quality", "prod"],
    default_args={"owner": "data-platform", "retries": 2, "retry_delay": timedelta(minutes=5)},
):
    list_datasets = ListProdDatasetsOperator(task_id="list_datasets")
    RevalidateDatasetOperator.partial(
        task_id="revalidate",
        map_index_template="{{ task.job }}.{{ task.dataset }}",
        on_failure_callback=AlertNotifier(
            aws_conn_id=prod.aws_conn_id,
            region_name=prod.region,
            target_arn=environments.alerts_topic_arn,
            subject=ALERT_SUBJECT,
            message=ALERT_MESSAGE,
        ),
    ).expand_kwargs(list_datasets.output)
