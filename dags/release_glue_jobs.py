"""Release DAGs: one ``release__<job>`` per Glue job folder in ``glue_jobs/``.

build -> test -> deploy_staging -> run_staging -> quality_gate -> approval -> promote_prod ->
run_prod -> verify_prod, with automatic rollback of prod when promotion or verification fails.
Wiring only: the logic lives in ``glue_cicd``. Invalid job specs are reported by
``validate_job_specs.py`` so they never hide the valid jobs' DAGs.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG, Asset, Param, TriggerRule, chain

from glue_cicd.operators.release import (
    ApprovalEvidenceOperator,
    BuildArtifactOperator,
    DeployGlueJobOperator,
    JobTestsOperator,
    PromoteOperator,
    QualityGateOperator,
    ReleaseLocksOperator,
    RollbackOperator,
)
from glue_cicd.spec import load_environments, load_jobs

environments = load_environments()
staging, prod = environments["staging"], environments["prod"]
specs, _ = load_jobs(environments=environments)


def run_glue_job(task_id: str, env, job: str) -> GlueJobOperator:
    """A run of the deployed job as it is (no config update), with the driver's log in the task log."""
    return GlueJobOperator(
        task_id=task_id,
        job_name=env.glue_job_name(job),
        aws_conn_id=env.aws_conn_id,
        region_name=env.region,
        job_poll_interval=env.glue_poll_seconds,
        update_config=False,
        verbose=True,
        stop_job_run_on_kill=True,
    )


for job, spec in specs.items():
    with DAG(
        dag_id=f"release__{job}",
        description=f"Release {job} to staging, gate it, and promote it to prod on approval",
        doc_md=f"### Release `{job}`\n\n{spec.description}\n\nOwners: {', '.join(spec.owners)}. "
        f"Staging job `{staging.glue_job_name(job)}`, prod job `{prod.glue_job_name(job)}`. "
        "Approve in *Required Actions*; the person who triggers a release cannot approve it.",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["glue", "release", job],
        default_args={"owner": ", ".join(spec.owners), "retries": 0},
        params={
            "git_ref": Param(
                "",
                type="string",
                title="Git ref",
                description="Branch, tag or commit to build; empty builds the deployed checkout.",
            ),
            "release_notes": Param("", type="string", title="Release notes", format="multiline"),
            "allow_drift": Param(
                False,
                type="boolean",
                title="Overwrite drifted jobs",
                description="Deploy even if a job was edited outside the pipeline.",
            ),
        },  # fmt: skip
    ) as dag:
        build = BuildArtifactOperator(task_id="build", job=job, git_ref="{{ params.git_ref }}")
        test = JobTestsOperator(task_id="test", job=job, git_ref="{{ params.git_ref }}")
        deploy_staging = DeployGlueJobOperator(
            task_id="deploy_staging", job=job, environment="staging", allow_drift="{{ params.allow_drift }}"
        )
        run_staging = run_glue_job("run_staging", staging, job)
        quality_gate = QualityGateOperator(task_id="quality_gate", job=job, environment="staging")
        collect_evidence = ApprovalEvidenceOperator(task_id="collect_evidence", job=job)
        approval = ApprovalOperator(
            task_id="approval",
            subject=f"Promote {job} {{{{ ti.xcom_pull(task_ids='build')['version'] }}}} to prod?",
            body="{{ ti.xcom_pull(task_ids='collect_evidence') }}",
            defaults="Reject",
            fail_on_reject=True,
            assigned_users=[{"id": user, "name": user} for user in prod.approvers] or None,
            response_timeout=timedelta(hours=prod.approval_timeout_hours),
        )
        promote_prod = PromoteOperator(task_id="promote_prod", job=job, allow_drift="{{ params.allow_drift }}")
        run_prod = run_glue_job("run_prod", prod, job)
        verify_prod = QualityGateOperator(
            task_id="verify_prod",
            job=job,
            environment="prod",
            outlets=[Asset(name=f"{job}.{o.name}", uri=o.path_in(prod)) for o in spec.datasets.outputs],
        )
        rollback_prod = RollbackOperator(
            task_id="rollback_prod",
            job=job,
            environment="prod",
            failed_tasks=["promote_prod", "run_prod", "verify_prod"],
            trigger_rule=TriggerRule.ONE_FAILED,
        )
        release_locks = ReleaseLocksOperator(task_id="release_locks", job=job).as_teardown()

        chain(
            build, test, deploy_staging, run_staging, quality_gate, collect_evidence, approval, promote_prod, run_prod
        )
        run_prod >> verify_prod
        [promote_prod, run_prod, verify_prod] >> rollback_prod
        [verify_prod, rollback_prod] >> release_locks
        deploy_staging >> release_locks
    globals()[dag.dag_id] = dag
