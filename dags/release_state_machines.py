"""Release DAGs for Step Functions state machines: one ``release_state_machine__<name>`` per folder
in ``state_machines/``.

build (the definition, checked) -> staging (deploy, sample executions) -> evidence -> approval ->
prod: a new version takes a share of the ``live`` alias's executions per traffic step while its
failures are watched, then all of them; on failures (or any failure after deploying) every
execution goes back to the previous version. Wiring only: the logic lives in ``glue_cicd``.
Invalid specs are reported by ``validate_state_machine_specs.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, TriggerRule, chain

from glue_cicd.operators.alias_target import release_params
from glue_cicd.operators.approval import approval_task
from glue_cicd.operators.locks import ReleaseLocksOperator, wait_for_prod_lock
from glue_cicd.operators.state_machine_build import BuildStateMachineOperator
from glue_cicd.operators.state_machine_deploy import DeployStateMachineOperator, SampleExecutionsOperator
from glue_cicd.operators.state_machine_evidence import StateMachineEvidenceOperator
from glue_cicd.operators.traffic import RollbackAliasOperator, ShiftTrafficOperator
from glue_cicd.spec import load_environments
from glue_cicd.state_machine_spec import load_state_machines

environments = load_environments()
staging, prod = environments["staging"], environments["prod"]
specs, _ = load_state_machines(environments=environments)

for name, spec in specs.items():
    with DAG(
        dag_id=f"release_state_machine__{name}",
        description=f"Release state machine {name}: staging executions, approval, then a traffic shift in prod",
        doc_md=f"### Release state machine `{name}`\n\n{spec.description}\n\nOwners: {', '.join(spec.owners)}. "
        f"Staging `{staging.state_machine_name(name)}`, prod `{prod.state_machine_name(name)}` (alias `live`). "
        f"Traffic steps {spec.traffic.steps}% for {spec.traffic.bake_minutes:g} min each. Approve in *Required "
        "Actions*: a listed approver other than the person who triggered the release.",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        is_paused_upon_creation=False,
        max_active_runs=1,
        tags=["stepfunctions", "release", name],
        default_args={"owner": ", ".join(spec.owners), "retries": 2, "retry_delay": timedelta(seconds=30)},
        params=release_params(),
    ) as dag:
        build = BuildStateMachineOperator(task_id="build", state_machine=name)
        deploy_staging = DeployStateMachineOperator(
            task_id="deploy_staging", state_machine=name, environment="staging", artifact=build.output
        )
        samples_staging = SampleExecutionsOperator(
            task_id="samples_staging", state_machine=name, environment="staging", deployment=deploy_staging.output
        )
        evidence = StateMachineEvidenceOperator(
            task_id="collect_evidence", state_machine=name, artifact=build.output, samples=samples_staging.output
        )
        approval = approval_task(
            environments=environments, env=prod, subject=evidence.output["subject"], body=evidence.output["body"]
        )
        wait_for_lock = wait_for_prod_lock(spec.target, prod)
        deploy_prod = DeployStateMachineOperator(
            task_id="deploy_prod",
            state_machine=name,
            environment="prod",
            artifact=build.output,
            approval=approval.output,
        )
        shift_traffic = ShiftTrafficOperator(
            task_id="shift_traffic", kind="states", target=name, artifact=build.output, deployment=deploy_prod.output
        )
        rollback_prod = RollbackAliasOperator(
            task_id="rollback_prod",
            kind="states",
            target=name,
            deployment=deploy_prod.output,
            failed_tasks=["deploy_prod", "shift_traffic"],
            trigger_rule=TriggerRule.ONE_FAILED,
            retries=0,
        )
        release_locks = ReleaseLocksOperator(task_id="release_locks", job=spec.target).as_teardown()

        chain(build, deploy_staging, samples_staging, evidence, approval, wait_for_lock, deploy_prod, shift_traffic)
        [deploy_prod, shift_traffic] >> rollback_prod
        [shift_traffic, rollback_prod] >> release_locks
        wait_for_lock >> release_locks
    globals()[dag.dag_id] = dag
