"""Release DAGs for Lambda functions: one ``release_lambda__<function>`` per folder in
``lambda_functions/``.

build -> test -> staging (deploy, sample calls) -> evidence -> approval -> prod: a new version
takes a share of the ``live`` alias's calls per traffic step while its errors are watched, then
all of them; on errors (or any failure after deploying) every call goes back to the previous
version. Wiring only: the logic lives in ``glue_cicd``. Invalid specs are reported by
``validate_function_specs.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, TriggerRule, chain

from glue_cicd.function_spec import load_functions
from glue_cicd.operators.alias_target import release_params
from glue_cicd.operators.approval import approval_task
from glue_cicd.operators.function_build import BuildFunctionOperator, FunctionTestsOperator
from glue_cicd.operators.function_deploy import DeployFunctionOperator, SmokeTestOperator
from glue_cicd.operators.function_evidence import FunctionEvidenceOperator
from glue_cicd.operators.locks import ReleaseLocksOperator, wait_for_prod_lock
from glue_cicd.operators.traffic import RollbackAliasOperator, ShiftTrafficOperator
from glue_cicd.spec import load_environments

environments = load_environments()
staging, prod = environments["staging"], environments["prod"]
specs, _ = load_functions(environments=environments)

for function, spec in specs.items():
    with DAG(
        dag_id=f"release_lambda__{function}",
        description=f"Release Lambda function {function}: staging, approval, then a traffic shift in prod",
        doc_md=f"### Release Lambda function `{function}`\n\n{spec.description}\n\nOwners: {', '.join(spec.owners)}. "
        f"Staging `{staging.function_name(function)}`, prod `{prod.function_name(function)}` (alias `live`). "
        f"Traffic steps {spec.traffic.steps}% for {spec.traffic.bake_minutes:g} min each. Approve in *Required "
        "Actions*: a listed approver other than the person who triggered the release.",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        is_paused_upon_creation=False,
        max_active_runs=1,
        tags=["lambda", "release", function],
        default_args={"owner": ", ".join(spec.owners), "retries": 2, "retry_delay": timedelta(seconds=30)},
        params=release_params(),
    ) as dag:
        build = BuildFunctionOperator(task_id="build", function=function)
        test = FunctionTestsOperator(task_id="test", function=function, artifact=build.output)
        deploy_staging = DeployFunctionOperator(
            task_id="deploy_staging", function=function, environment="staging", artifact=build.output
        )
        smoke_staging = SmokeTestOperator(
            task_id="smoke_staging", function=function, environment="staging", deployment=deploy_staging.output
        )
        evidence = FunctionEvidenceOperator(
            task_id="collect_evidence",
            function=function,
            artifact=build.output,
            tests=test.output,
            smoke=smoke_staging.output,
        )
        approval = approval_task(
            environments=environments, env=prod, subject=evidence.output["subject"], body=evidence.output["body"]
        )
        wait_for_lock = wait_for_prod_lock(spec.target, prod)
        deploy_prod = DeployFunctionOperator(
            task_id="deploy_prod",
            function=function,
            environment="prod",
            artifact=build.output,
            approval=approval.output,
        )
        shift_traffic = ShiftTrafficOperator(
            task_id="shift_traffic",
            kind="lambda",
            target=function,
            artifact=build.output,
            deployment=deploy_prod.output,
        )
        rollback_prod = RollbackAliasOperator(
            task_id="rollback_prod",
            kind="lambda",
            target=function,
            deployment=deploy_prod.output,
            failed_tasks=["deploy_prod", "shift_traffic"],
            trigger_rule=TriggerRule.ONE_FAILED,
            retries=0,
        )
        release_locks = ReleaseLocksOperator(task_id="release_locks", job=spec.target).as_teardown()

        chain(build, test, deploy_staging, smoke_staging, evidence, approval, wait_for_lock, deploy_prod)
        chain(deploy_prod, shift_traffic)
        [deploy_prod, shift_traffic] >> rollback_prod
        [shift_traffic, rollback_prod] >> release_locks
        wait_for_lock >> release_locks
    globals()[dag.dag_id] = dag
