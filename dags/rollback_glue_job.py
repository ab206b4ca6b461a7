"""Roll a Glue job back to an earlier release, on demand, from the release ledger.

Restores the chosen release (default: the one before the live release) under the environment's
lock: its data first (the catalog pointed back at the generations it published; publishes after
it undone), then its artifact and full job definition. A prod rollback needs a human approval, like a
release. Wiring only.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.python import BranchPythonOperator
from airflow.sdk import DAG, Param, TriggerRule

from glue_cicd.operators.approval import approval_task
from glue_cicd.operators.locks import ReleaseLocksOperator
from glue_cicd.operators.rollback import RollbackCheckOperator, RollbackOperator
from glue_cicd.spec import load_environments, load_jobs

environments = load_environments()
specs, _ = load_jobs(environments=environments)
JOB, ENVIRONMENT = "{{ params.job }}", "{{ params.environment }}"

with DAG(
    dag_id="rollback_glue_job",
    description="Restore an earlier release of a Glue job (data, script and definition) from the ledger",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,  # runs only when asked (or, revalidation, on its schedule)
    max_active_runs=1,
    tags=["glue", "rollback"],
    default_args={"owner": "data-platform", "retries": 2, "retry_delay": timedelta(seconds=30)},
    params={
        "job": Param(next(iter(specs), ""), type="string", enum=sorted(specs) or [""], title="Glue job"),
        "environment": Param("prod", type="string", enum=["staging", "prod"], title="Environment"),
        "version": Param(
            None,
            type=["null", "string"],
            title="Version to restore",
            description="Empty restores the release before the live one.",
        ),
    },  # fmt: skip
):
    check_request = RollbackCheckOperator(
        task_id="check_request", job=JOB, environment=ENVIRONMENT, version="{{ params.version or '' }}"
    )
    needs_approval = BranchPythonOperator(
        task_id="needs_approval",
        python_callable=lambda environment: "approval" if environment == "prod" else "rollback",
        op_kwargs={"environment": ENVIRONMENT},
    )
    approval = approval_task(
        environments=environments,
        env=environments["prod"],
        subject=f"Roll back {JOB} in {ENVIRONMENT} to {{{{ ti.xcom_pull(task_ids='check_request', key='target') }}}}?",
        body="Live version: `{{ ti.xcom_pull(task_ids='check_request', key='current') }}`; restores "
        "`{{ ti.xcom_pull(task_ids='check_request', key='target') }}` from the release ledger: the catalog "
        "points consumers back at the data generations it published, then its script and full job definition.",
    )
    rollback = RollbackOperator(
        task_id="rollback",
        job=JOB,
        environment=ENVIRONMENT,
        version=check_request.output["target"],
        approval=approval.output,
        trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
    )
    release_locks = ReleaseLocksOperator(task_id="release_locks", job=JOB).as_teardown()

    check_request >> needs_approval >> [approval, rollback]
    approval >> rollback >> release_locks
