"""Deploy a state machine version and run its samples: staging takes it whole; prod, after the
approval, takes it as a canary beside the live version (``live`` alias with weighted routing)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from glue_cicd.operators.state_machine_base import StateMachineOperator


class DeployStateMachineOperator(StateMachineOperator):
    """Render the definition for ``environment``, check that the Glue jobs and Lambda functions it
    names are deployed there, have AWS validate it (where ``ValidateStateMachineDefinition``
    exists), publish it as a version and route the ``live`` alias: staging, every execution;
    prod, the first traffic step's share (the previous version keeps the rest) or, on a first
    release, all of them.

    In prod it first checks the approval and that the ``live`` alias is where the ledger's last
    release left it (drift: refused unless the DAG run's ``allow_drift`` Param is set). A version
    with this definition already live or on the alias (a retry) is reused, not published again.

    :param artifact: the build task's result. :param approval: prod: the approval task's result.
    :return: ``name`` (the state machine's ARN), ``version`` (the new version's ARN),
        ``previous`` (None on a first release) and ``definition`` (what the ledger records).
    """

    template_fields: Sequence[str] = ("state_machine", "environment", "artifact", "approval")

    def __init__(self, *, state_machine: str, environment: str, artifact: Any, approval: Any = None, **kwargs):
        super().__init__(**kwargs)
        self.state_machine = state_machine
        self.environment = environment
        self.artifact = artifact
        self.approval = approval

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.errors import Refusal
        from glue_cicd.functions import LIVE_ALIAS
        from glue_cicd.state_machines import StateMachineArtifact, render_definition

        environments, spec = self.load_target()
        env = environments[self.environment]
        artifact = StateMachineArtifact.from_dict(self.artifact)
        ledger = self.ledger(environments)
        if env.name == "prod":
            self.check_approval(context, environments, self.approval, artifact.version)
        text = artifact.load(self.store(environments["staging"]), env.name).decode()
        definition, role = render_definition(text, env), spec.role_arn(env)
        self.check_references(text, env)
        machines = self.aliases(env)
        problems = machines.validate(definition, spec.type)
        if problems:
            raise Refusal(
                f"AWS refuses {spec.name}'s definition in {env.name}, nothing deployed: " + "; ".join(problems)
            )
        if problems is None:
            self.log.warning("%s has no ValidateStateMachineDefinition: only our own check ran", env.name)
        name = env.state_machine_name(spec.name)
        arn = machines.find(name)
        routing = machines.routing(arn, LIVE_ALIAS) if arn else None

        def ours(version: str) -> bool:
            return machines.definition_of(version) == (definition, role)

        if env.name == "prod":
            self.check_drift(context, ledger, routing, "state_machine_version", ours)
        previous = routing[0] if routing else None
        version = next((v for v in ([previous, *routing[1]] if routing else []) if ours(v)), None)
        if version is None:
            description = f"{artifact.version} from {self.run_ref(context)}"[:256]
            arn, version = machines.publish(name, definition, role, spec.type, description, spec.tags)
            self.log.info("published %s (artifact %s)", self.shown(version), artifact.version)
        if previous == version:  # this definition is live already
            previous = None
        self.go_live(machines, arn, version, previous, env, spec.traffic.steps[0])
        recorded = {"definition": json.loads(definition), "role": role, "state_machine_version": version}
        if env.name == "staging":
            ledger.record_deployment(
                job=self.job,
                environment=env.name,
                version=artifact.version,
                artifact_sha256=artifact.sha256,
                script_location=artifact.uri,
                definition=recorded,
                run_id=self.run_ref(context),
            )
        return {"name": arn, "version": version, "previous": previous, "definition": recorded}

    def check_references(self, text: str, env) -> None:
        """Refuse a definition naming a Glue job or Lambda function ``env`` does not have (live)."""
        from glue_cicd.errors import Refusal
        from glue_cicd.functions import LIVE_ALIAS
        from glue_cicd.hooks.lambda_functions import LambdaFunctionHook
        from glue_cicd.state_machines import references

        lambdas = LambdaFunctionHook(aws_conn_id=env.aws_conn_id, region_name=env.region)
        missing = []
        for (kind, name), value in references(text, env).items():
            if kind == "glue_job" and self.glue(env).live_definition(value) is None:
                missing.append(f"Glue job {value} (release {name} first)")
            if kind == "lambda_function" and lambdas.routing(env.function_name(name), LIVE_ALIAS) is None:
                missing.append(f"Lambda function {env.function_name(name)} with a live alias (release {name} first)")
        if missing:
            raise Refusal(
                f"{self.state_machine} calls what {env.name} does not have, nothing deployed: {', '.join(missing)}"
            )


class SampleExecutionsOperator(StateMachineOperator):
    """Start one execution of the ``live`` alias per sample (``samples/``, placeholders filled in)
    and wait for them, deferred, up to ``sample_timeout_minutes``: each must succeed on the
    deployed version with its ``expect`` output. On a failure the alias goes back to the version
    before and the task fails. Executions are named after the sample and the DAG run's generation,
    so a retried task finds its executions instead of starting others.

    :param deployment: the deploy task's result.
    """

    template_fields: Sequence[str] = ("state_machine", "environment", "deployment")

    def __init__(self, *, state_machine: str, environment: str, deployment: Any, **kwargs):
        super().__init__(**kwargs)
        self.state_machine = state_machine
        self.environment = environment
        self.deployment = deployment

    def perform(self, context) -> Any:
        from glue_cicd.functions import LIVE_ALIAS
        from glue_cicd.state_machines import fill_sample
        from glue_cicd.triggers import ExecutionsTrigger

        environments, spec = self.load_target()
        env = environments[self.environment]
        machines, arn = self.aliases(env), self.deployment["name"]
        generation = self.generation(context)
        executions = {}
        for sample_name, sample in spec.samples().items():
            execution_name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{sample_name}-{generation}")[:80]
            execution_input = fill_sample(sample, env, generation)["input"]
            executions[sample_name] = self.start(machines, f"{arn}:{LIVE_ALIAS}", execution_name, execution_input)
            self.log.info("sample %s: %s", sample_name, executions[sample_name])
        context["ti"].xcom_push(key="executions", value=executions)
        self.defer(
            trigger=ExecutionsTrigger(
                executions=list(executions.values()),
                poll_seconds=env.glue_poll_seconds,
                timeout_seconds=spec.sample_timeout_minutes * 60,
                aws_conn_id=env.aws_conn_id,
                region_name=env.region,
            ),
            method_name="ended",
            timeout=timedelta(minutes=spec.sample_timeout_minutes + 10),
        )

    @staticmethod
    def start(machines, alias_arn: str, execution_name: str, execution_input: Any) -> str:
        """Start (or find, on a retry) the sample's execution; its ARN."""
        from botocore.exceptions import ClientError

        try:
            return machines.start(alias_arn, execution_name, execution_input)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
        base = alias_arn.rsplit(":", 1)[0]
        return base.replace(":stateMachine:", ":execution:") + f":{execution_name}"

    def ended(self, context, event: dict[str, Any]) -> list[dict[str, Any]]:
        return self.refusing(context, self._ended, context, event)

    def _ended(self, context, event: dict[str, Any]) -> list[dict[str, Any]]:
        from glue_cicd.functions import LIVE_ALIAS
        from glue_cicd.state_machines import SampleExecutionFailed, fill_sample, sample_problem

        environments, spec = self.load_target()
        env = environments[self.environment]
        executions = context["ti"].xcom_pull(task_ids=self.task_id, key="executions")
        generation = self.generation(context)
        version = self.deployment["version"]
        results, problems = [], []
        for sample_name, sample in spec.samples().items():
            described = event["executions"][executions[sample_name]]
            problem = sample_problem(sample_name, fill_sample(sample, env, generation), described, version)
            results.append({"sample": sample_name, "ok": problem is None, "problem": problem,
                            "status": described["status"], "output": described["output"]})  # fmt: skip
            self.log.info("sample %s: %s", sample_name, problem or "succeeded")
            if problem:
                problems.append(problem)
        if problems:
            previous, arn = self.deployment.get("previous"), self.deployment["name"]
            if previous:
                self.aliases(env).route(arn, LIVE_ALIAS, previous)
            back = f"{arn}:{LIVE_ALIAS} is back on {self.shown(previous)}" if previous else "it had no version before"
            raise SampleExecutionFailed(
                f"{len(problems)} of {len(results)} sample executions failed in {env.name} ({back}): "
                + "; ".join(problems)
            )
        return results
