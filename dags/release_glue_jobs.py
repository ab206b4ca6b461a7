"""Release DAGs: one ``release__<job>`` per Glue job folder in ``glue_jobs/``.

request -> build -> test -> deploy_staging -> run_staging -> quality_gate -> collect_evidence ->
approval -> promote_prod -> run_prod -> verify_prod, with automatic rollback of prod when
promotion or verification fails. Wiring only: the logic lives in ``glue_cicd``. Invalid job specs
are reported by ``validate_job_specs.py`` so they never hide the valid jobs' DAGs.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, TriggerRule, chain

from glue_cicd.assets import output_assets
from glue_cicd.operators.approval import approval_task
from glue_cicd.operators.build import BuildArtifactOperator
from glue_cicd.operators.deploy import DeployGlueJobOperator, PromoteOperator
from glue_cicd.operators.evidence import ApprovalEvidenceOperator
from glue_cicd.operators.glue_run import glue_run
from glue_cicd.operators.job_tests import JobTestsOperator
from glue_cicd.operators.locks import ReleaseLocksOperator
from glue_cicd.operators.quality import QualityGateOperator
from glue_cicd.operators.request import ReleaseRequestOperator
from glue_cicd.operators.rollback import RollbackOperator
from glue_cicd.spec import load_environments, load_jobs

environments = load_environments()
staging, prod = environments["staging"], environments["prod"]
specs, _ = load_jobs(environments=environments)

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
        default_args={"owner": ", ".join(spec.owners), "retries": 2, "retry_delay": timedelta(seconds=30)},
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
        request = ReleaseRequestOperator(task_id="request", job=job)
        build = BuildArtifactOperator(task_id="build", job=job, git_ref=request.output["git_ref"])
        artifact = build.output
        test = JobTestsOperator(task_id="test", job=job, artifact=artifact, git_ref=request.output["git_ref"])
        deploy_staging = DeployGlueJobOperator(
            task_id="deploy_staging",
            job=job,
            environment="staging",
            artifact=artifact,
            allow_drift=request.output["allow_drift"],
        )
        run_staging = glue_run("run_staging", staging, job)
        quality_gate = QualityGateOperator(task_id="quality_gate", job=job, environment="staging", artifact=artifact)
        collect_evidence = ApprovalEvidenceOperator(
            task_id="collect_evidence",
            job=job,
            artifact=artifact,
            tests=test.output,
            quality=quality_gate.output,
            staging_run_id=run_staging.output,
        )
        approval = approval_task(
            env=prod, subject=collect_evidence.output["subject"], body=collect_evidence.output["body"]
        )
        promote_prod = PromoteOperator(
            task_id="promote_prod",
            job=job,
            artifact=artifact,
            approval=approval.output,
            allow_drift=request.output["allow_drift"],
        )
        run_prod = glue_run("run_prod", prod, job)
        verify_prod = QualityGateOperator(
            task_id="verify_prod", job=job, environment="prod", artifact=artifact, outlets=output_assets(spec, prod)
        )
        rollback_prod = RollbackOperator(
            task_id="rollback_prod",
            job=job,
            environment="prod",
            artifact=artifact,
            failed_tasks=["promote_prod", "run_prod", "verify_prod"],
            trigger_rule=TriggerRule.ONE_FAILED,
        )
        release_locks = ReleaseLocksOperator(task_id="release_locks", job=job).as_teardown()

        chain(request, build, test, deploy_staging, run_staging, quality_gate, collect_evidence, approval)
        chain(approval, promote_prod, run_prod, verify_prod)
        [promote_prod, run_prod, verify_prod] >> rollback_prod
        [verify_prod, rollback_prod] >> release_locks
        deploy_staging >> release_locks
    globals()[dag.dag_id] = dag
