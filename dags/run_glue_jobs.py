"""Run DAGs: one ``run__<job>`` per Glue job, running the live prod release (write-audit-publish).

A job runs on its ``run.schedule`` and/or when an upstream job it reads ``from:`` publishes
(Airflow Assets). Each run writes a new generation, audits what it wrote, waits for the job's prod
lock, publishes through the catalog, checks what consumers now read, and emits the outputs' Asset
events. On any failure nothing stays published and one alert goes to the alerts topic. A job with
a ``run.date_argument`` processes the date its data interval starts on, so
``airflow backfill create`` fills a date range, one audited generation per date. Wiring only.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, AssetAny, AssetOrTimeSchedule, CronDataIntervalTimetable, TriggerRule, chain

from glue_cicd.assets import output_assets, upstream_assets
from glue_cicd.operators.glue_run import glue_run
from glue_cicd.operators.locks import ReleaseLocksOperator, wait_for_prod_lock
from glue_cicd.operators.quality import QualityGateOperator
from glue_cicd.operators.runs import PrepareRunOperator, RunFailedOperator, RunPublishOperator
from glue_cicd.spec import load_environments, load_jobs

environments = load_environments()
prod = environments["prod"]
specs, _ = load_jobs(environments=environments)


def schedule_of(spec):
    upstream = upstream_assets(spec, specs, prod)
    timetable = CronDataIntervalTimetable(spec.run.schedule, timezone="UTC") if spec.run.schedule else None
    if timetable and upstream:
        return AssetOrTimeSchedule(timetable=timetable, assets=AssetAny(*upstream))
    return timetable or (AssetAny(*upstream) if upstream else None)


for job, spec in specs.items():
    triggers = [f"`{spec.run.schedule}` (UTC)"] if spec.run.schedule else []
    triggers += [f"a publish of `{name}`" for name in spec.upstream]
    dated = f" Each run processes one date (`--{spec.run.date_argument}`)." if spec.run.date_argument else ""
    with DAG(
        dag_id=f"run__{job}",
        description=f"Run {job}'s live prod release: write a generation, audit it, publish it",
        doc_md=f"### Run `{job}`\n\n{spec.description}\n\nRuns on {' or '.join(triggers) or 'request only'}."
        f"{dated} Glue job `{prod.glue_job_name(job)}`; consumers read catalog `{prod.catalog_database}`. "
        "A run publishes only what passed its audit; on a failure consumers keep the previous data and "
        "one alert goes to the alerts topic.",
        schedule=schedule_of(spec),
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        is_paused_upon_creation=environments.run_dags_paused_upon_creation,
        max_active_runs=1,
        tags=["glue", "run", job],
        default_args={"owner": ", ".join(spec.owners), "retries": 2, "retry_delay": timedelta(seconds=30)},
    ) as dag:
        prepare = PrepareRunOperator(task_id="prepare", job=job)
        generation = prepare.output["generation"]
        run = glue_run("run", prod, prod.glue_job_name(job), prepare.output["arguments"])
        audit = QualityGateOperator(
            task_id="audit",
            job=job,
            environment="prod",
            artifact=prepare.output["artifact"],
            generation=generation,
            glue_job=prod.glue_job_name(job),
            run_id=run.output,
        )
        wait_for_lock = wait_for_prod_lock(job, prod)
        publish = RunPublishOperator(
            task_id="publish",
            job=job,
            generation=generation,
            release=prepare.output["release"],
            artifact=prepare.output["artifact"],
        )
        verify = QualityGateOperator(
            task_id="verify",
            job=job,
            environment="prod",
            artifact=prepare.output["artifact"],
            generation=generation,
            through_catalog=True,
            verifies_release=False,
            outlets=output_assets(spec, prod),
        )
        on_failure = RunFailedOperator(
            task_id="on_failure",
            job=job,
            generation=generation,
            date=prepare.output["date"],
            trigger_rule=TriggerRule.ONE_FAILED,
            retries=0,
        )
        release_locks = ReleaseLocksOperator(task_id="release_locks", job=job).as_teardown()

        chain(prepare, run, audit, wait_for_lock, publish, verify)
        [prepare, run, audit, wait_for_lock, publish, verify] >> on_failure
        [verify, on_failure] >> release_locks
    globals()[dag.dag_id] = dag
