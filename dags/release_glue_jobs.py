"""Release DAGs: one ``release__<job>`` per Glue job folder in ``glue_jobs/``.

Code goes build -> test -> staging; data is written, audited and only then published
(write-audit-publish). In prod the candidate runs beside the live version on prod's inputs
(shadow run) into a generation no consumer reads; it is audited and diffed against what is
published, a reviewer approves that code and that data, and publish points the catalog at it and
promotes the job definition. A failed publish or post-publish check puts the data back first,
then the code. Wiring only: the logic lives in ``glue_cicd``. Invalid job specs are reported by
``validate_job_specs.py`` so they never hide the valid jobs' DAGs.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, TriggerRule, chain

from glue_cicd.assets import output_assets
from glue_cicd.operators.approval import approval_task
from glue_cicd.operators.build import BuildArtifactOperator
from glue_cicd.operators.data_diff import DataDiffOperator
from glue_cicd.operators.deploy import DeployGlueJobOperator, ShadowDeployOperator
from glue_cicd.operators.evidence import ApprovalEvidenceOperator
from glue_cicd.operators.glue_run import glue_run
from glue_cicd.operators.job_tests import JobTestsOperator
from glue_cicd.operators.locks import ReleaseLocksOperator, wait_for_prod_lock
from glue_cicd.operators.publish import PublishOperator
from glue_cicd.operators.quality import QualityGateOperator
from glue_cicd.operators.request import ReleaseRequestOperator
from glue_cicd.operators.retention import CleanupGenerationsOperator
from glue_cicd.operators.rollback import RollbackOperator
from glue_cicd.spec import load_environments, load_jobs

environments = load_environments()
staging, prod = environments["staging"], environments["prod"]
specs, _ = load_jobs(environments=environments)

for job, spec in specs.items():
    with DAG(
        dag_id=f"release__{job}",
        description=f"Release {job}: staging, a shadow run on prod's inputs, and on approval its code and data",
        doc_md=f"### Release `{job}`\n\n{spec.description}\n\nOwners: {', '.join(spec.owners)}. "
        f"Staging job `{staging.glue_job_name(job)}`, prod job `{prod.glue_job_name(job)}`, shadow job "
        f"`{prod.shadow_job_name(job)}`. Consumers read catalog `{prod.catalog_database}`. "
        "Approve in *Required Actions*: a listed approver other than the person who triggered the release "
        "answers (Airflow refuses that person's answer). Marking the approval task successful by hand never "
        "promotes: publish refuses it.",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        is_paused_upon_creation=False,  # runs only when asked (or, revalidation, on its schedule)
        max_active_runs=1,
        tags=["glue", "release", job],
        default_args={"owner": ", ".join(spec.owners), "retries": 2, "retry_delay": timedelta(seconds=30)},
        params={
            "git_ref": Param(
                None,
                type=["null", "string"],
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
        staging_generation = deploy_staging.output["generation"]
        run_staging = glue_run("run_staging", staging, staging.glue_job_name(job), deploy_staging.output["arguments"])
        audit_staging = QualityGateOperator(
            task_id="audit_staging",
            job=job,
            environment="staging",
            artifact=artifact,
            generation=staging_generation,
            glue_job=staging.glue_job_name(job),
            run_id=run_staging.output,
        )
        publish_staging = PublishOperator(
            task_id="publish_staging", job=job, environment="staging", artifact=artifact, generation=staging_generation
        )
        deploy_shadow = ShadowDeployOperator(task_id="deploy_shadow", job=job, artifact=artifact)
        generation = deploy_shadow.output["generation"]
        shadow_run = glue_run("shadow_run", prod, prod.shadow_job_name(job), deploy_shadow.output["arguments"])
        audit = QualityGateOperator(
            task_id="audit",
            job=job,
            environment="prod",
            artifact=artifact,
            generation=generation,
            glue_job=prod.shadow_job_name(job),
            run_id=shadow_run.output,
        )
        data_diff = DataDiffOperator(task_id="data_diff", job=job, artifact=artifact, generation=generation)
        collect_evidence = ApprovalEvidenceOperator(
            task_id="collect_evidence",
            job=job,
            artifact=artifact,
            tests=test.output,
            quality=audit_staging.output,
            audit=audit.output,
            data_diff=data_diff.output,
            staging_run_id=run_staging.output,
            request=request.output,
        )
        approval = approval_task(
            environments=environments,
            env=prod,
            subject=collect_evidence.output["subject"],
            body=collect_evidence.output["body"],
        )
        wait_for_lock = wait_for_prod_lock(job, prod)
        publish = PublishOperator(
            task_id="publish",
            job=job,
            environment="prod",
            artifact=artifact,
            generation=generation,
            approval=approval.output,
            data_diff=data_diff.output,
            allow_drift=request.output["allow_drift"],
        )
        verify_prod = QualityGateOperator(
            task_id="verify_prod",
            job=job,
            environment="prod",
            artifact=artifact,
            generation=generation,
            through_catalog=True,
            outlets=output_assets(spec, prod),
        )
        cleanup_generations = CleanupGenerationsOperator(task_id="cleanup_generations", job=job)
        rollback_prod = RollbackOperator(
            task_id="rollback_prod",
            job=job,
            environment="prod",
            artifact=artifact,
            generation=generation,
            failed_tasks=["publish", "verify_prod"],
            trigger_rule=TriggerRule.ONE_FAILED,
        )
        release_locks = ReleaseLocksOperator(task_id="release_locks", job=job).as_teardown()

        chain(request, build, test, deploy_staging, run_staging, audit_staging, publish_staging)
        chain(publish_staging, deploy_shadow, shadow_run, audit, data_diff, collect_evidence, approval)
        chain(approval, wait_for_lock, publish, verify_prod, cleanup_generations)
        [publish, verify_prod] >> rollback_prod
        [cleanup_generations, rollback_prod] >> release_locks
        deploy_staging >> release_locks
    globals()[dag.dag_id] = dag
