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
    :return: ``function_name``, ``version`` (the new one) and ``previous`` (None on a first release).
    """

    template_fields: Sequence[str] = ("function", "environment", "artifact", "approval")

    def __init__(self, *, function: str, environment: str, artifact: Any, approval: Any = None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.job = f"lambda:{function}"
        self.environment = environment
        self.artifact = artifact
        self.approval = approval

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.functions import LIVE_ALIAS, FunctionArtifact, configuration, sha256_of

        environments, spec = self.load_function()
        env = environments[self.environment]
        artifact = FunctionArtifact.from_dict(self.artifact)
        ledger = self.ledger(environments)
        store = self.store(environments["staging"])
        if env.name == "prod":
            self.check_approval(context, environments, artifact)
        package = store.conn.get_object(Bucket=artifact.bucket, Key=artifact.prefix + "function.zip")["Body"].read()
        if sha256_of(package) != artifact.sha256:
            from glue_cicd.build import BuildError

            raise BuildError(f"{artifact.uri} was modified after it was built: {env.name} unchanged")
        lambdas = self.lambdas(env)
        config = configuration(spec, env)
        name = config["FunctionName"]
        alias = lambdas.alias(name, LIVE_ALIAS)
        previous = alias["FunctionVersion"] if alias else None
        if env.name == "prod":
            self.check_drift(context, ledger, alias, lambda v: lambdas.code_sha256(name, v) == artifact.code_sha256)
        version = lambdas.publish(config, package, artifact.code_sha256)
        if previous == version:  # the same code and configuration is live already
            previous = None
        if env.name == "prod" and previous is not None:
            share = spec.traffic.steps[0] / 100
            lambdas.route(name, LIVE_ALIAS, previous, {version: share})
            self.log.info(
                "%s:%s: version %s takes %.0f%% of calls, %s the rest", name, LIVE_ALIAS, version, share * 100, previous
            )
        else:
            lambdas.route(name, LIVE_ALIAS, version)
            self.log.info("%s:%s: all calls on version %s", name, LIVE_ALIAS, version)
        if env.name == "staging":
            ledger.record_deployment(
                job=self.job,
                environment=env.name,
                version=artifact.version,
                artifact_sha256=artifact.sha256,
                script_location=artifact.uri,
                definition={"configuration": config, "lambda_version": version},
                run_id=self.run_ref(context),
            )
        return {"function_name": name, "version": version, "previous": previous, "configuration": config}

    def check_approval(self, context, environments, artifact) -> None:
        from glue_cicd.approval import ApprovalRefused, check_approval

        try:
            approver = check_approval(
                self.approval or None,
                triggered_by=self.triggered_by(context),
                require_recorded=environments["prod"].require_recorded_approval,
            )
        except ApprovalRefused as exc:
            raise ApprovalRefused(f"deploy refused, prod unchanged: {exc}") from exc
        self.ledger(environments).record(
            self.job,
            "approval",
            run_id=self.run_ref(context),
            who=(approver or {}).get("name", "not recorded"),
            version=artifact.version,
            recorded=approver is not None,
        )

    def check_drift(self, context, ledger, alias: dict[str, Any] | None, ours) -> None:
        """Refuse when prod's ``live`` alias is not where the ledger's last release left it (a
        canary of this artifact's version, ``ours(version)``, is this release's own earlier try)."""
        from glue_cicd.errors import Refusal

        last = ledger.live(self.job, "prod")
        expected = last.definition["lambda_version"] if last else None
        actual = alias["FunctionVersion"] if alias else None
        routing = (alias or {}).get("RoutingConfig", {}) or {}
        extra = {v: w for v, w in (routing.get("AdditionalVersionWeights") or {}).items() if not ours(v)}
        if actual == expected and not extra:
            return
        found = f"version {actual}" + (f" with routing {extra}" if extra else "") if alias else "no live alias"
        message = (
            f"prod's live alias drifted: it points at {found}, the ledger's last release left it on "
            f"{'version ' + expected if expected else 'nothing'}; it was changed outside the pipeline"
        )
        if not context["params"].get("allow_drift"):
            raise Refusal(message + ". Nothing was deployed: re-run with allow_drift to take it over")
        self.log.warning("%s; allow_drift is set: deploying over it", message)


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
        self.job = f"lambda:{function}"
        self.environment = environment
        self.deployment = deployment

    def perform(self, context) -> list[dict[str, Any]]:
        from glue_cicd.functions import LIVE_ALIAS, SmokeTestFailed, fill, smoke_problem

        environments, spec = self.load_function()
        env = environments[self.environment]
        lambdas = self.lambdas(env)
        name, version = self.deployment["function_name"], self.deployment["version"]
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
