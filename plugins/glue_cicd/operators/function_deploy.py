"""Deploy a Lambda function version and smoke-test it: staging takes it whole; prod, after the
approval, takes it as a canary beside the live version (``live`` alias with weighted routing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glue_cicd.operators.function_base import FunctionOperator


class DeployFunctionOperator(FunctionOperator):
    """Publish the artifact as a new version of the function in ``environment`` and route its
    ``live`` alias: staging, all calls; prod, the first traffic step's share (the previous version
    keeps the rest) or, on a first release, all calls.

    In prod it first checks the approval (four eyes, recorded where required), that the stored
    package still hashes to the artifact, and that the ``live`` alias is where the ledger's last
    release left it (drift: refused unless the DAG run's ``allow_drift`` Param is set).

    :param artifact: the build task's result.
    :param approval: prod: the approval task's result.
    :return: ``name``, ``version`` (the new one), ``previous`` (None on a first release) and
        ``definition`` (what the ledger records of the release).
    """

    template_fields: Sequence[str] = ("function", "environment", "artifact", "approval")

    def __init__(self, *, function: str, environment: str, artifact: Any, approval: Any = None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.environment = environment
        self.artifact = artifact
        self.approval = approval

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.functions import LIVE_ALIAS, FunctionArtifact, configuration

        environments, spec = self.load_target()
        env = environments[self.environment]
        artifact = FunctionArtifact.from_dict(self.artifact)
        ledger = self.ledger(environments)
        store = self.store(environments["staging"])
        if env.name == "prod":
            self.check_approval(context, environments, self.approval, artifact.version)
        package = artifact.load(store, env.name)
        lambdas = self.aliases(env)
        config = configuration(spec, env)
        name = config["FunctionName"]
        routing = lambdas.routing(name, LIVE_ALIAS)
        previous = routing[0] if routing else None
        if env.name == "prod":
            self.check_drift(
                context,
                ledger,
                routing,
                "lambda_version",
                ours=lambda v: lambdas.code_sha256(name, v) == artifact.code_sha256,
            )
        version = lambdas.publish(config, package, artifact.code_sha256)
        if previous == version:  # the same code and configuration is live already
            previous = None
        self.go_live(lambdas, name, version, previous, env, spec.traffic.steps[0])
        definition = {"configuration": config, "lambda_version": version}
        if env.name == "staging":
            ledger.record_deployment(
                job=self.job,
                environment=env.name,
                version=artifact.version,
                artifact_sha256=artifact.sha256,
                script_location=artifact.uri,
                definition=definition,
                run_id=self.run_ref(context),
            )
        return {"name": name, "version": version, "previous": previous, "definition": definition}


class SmokeTestOperator(FunctionOperator):
    """Invoke the function's ``live`` alias in ``environment`` with each sample event (``samples/``,
    placeholders filled in): each must run the deployed version without error and return its
    ``expect``. On a failure the alias goes back to the version before, and the task fails.

    :param deployment: the deploy task's result.
    """

    template_fields: Sequence[str] = ("function", "environment", "deployment")

    def __init__(self, *, function: str, environment: str, deployment: Any, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.environment = environment
        self.deployment = deployment

    def perform(self, context) -> list[dict[str, Any]]:
        from glue_cicd.functions import LIVE_ALIAS, SmokeTestFailed, fill, smoke_problem

        environments, spec = self.load_target()
        env = environments[self.environment]
        lambdas = self.aliases(env)
        name, version = self.deployment["name"], self.deployment["version"]
        results, problems = [], []
        for sample_name, sample in spec.samples().items():
            sample = fill(sample, env)
            payload, error, ran = lambdas.invoke(name, LIVE_ALIAS, sample["event"])
            problem = smoke_problem(sample_name, sample, payload, error)
            if ran != version:
                problem = f"sample {sample_name}: ran version {ran}, not the deployed {version}"
            results.append({"sample": sample_name, "ok": problem is None, "problem": problem, "result": payload})
            self.log.info("sample %s: %s", sample_name, problem or "passed")
            if problem:
                problems.append(problem)
        if problems:
            previous = self.deployment.get("previous")
            if previous:
                lambdas.route(name, LIVE_ALIAS, previous)
            back = f"{name}:{LIVE_ALIAS} is back on version {previous}" if previous else "it had no version before"
            raise SmokeTestFailed(
                f"{len(problems)} of {len(results)} samples failed in {env.name} ({back}): " + "; ".join(problems)
            )
        return results
