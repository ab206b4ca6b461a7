"""Step Functions state machines as release targets, the logic without AWS: the artifact (the
definition as written, placeholders and all), its rendering per environment, and the verdict on
a sample execution."""

from __future__ import annotations

from typing import Any

from glue_cicd.asl import placeholders, render
from glue_cicd.content_artifacts import ContentArtifact
from glue_cicd.errors import Refusal
from glue_cicd.functions import LIVE_ALIAS, fill
from glue_cicd.state_machine_spec import DEFINITION_FILE


class SampleExecutionFailed(Refusal):
    """A staging sample execution did not succeed with its expected output."""


class StateMachineArtifact(ContentArtifact):
    """A state machine definition in the artifact store; each environment renders it."""

    KIND = "states"
    FILE = DEFINITION_FILE


def account_of(env) -> str:
    """The environment's AWS account (from its Glue role's ARN)."""
    return env.glue_role_arn.split(":")[4]


def references(text: str, env) -> dict[tuple[str, str], str]:
    """What each ``${glue_job:...}`` and ``${lambda_function:...}`` in ``text`` names in ``env``."""
    found = {}
    for kind, name in placeholders(text):
        if kind == "glue_job" and name:
            found[(kind, name)] = env.glue_job_name(name)
        elif kind == "lambda_function" and name:
            found[(kind, name)] = (
                f"arn:aws:lambda:{env.region}:{account_of(env)}:function:{env.function_name(name)}:{LIVE_ALIAS}"
            )
    return found


def render_definition(text: str, env) -> str:
    """The definition as ``env`` runs it: every placeholder filled in."""
    values = {"data_bucket": env.data_bucket, "artifact_bucket": env.artifact_bucket, "environment": env.name,
              "region": env.region, "account": account_of(env)}  # fmt: skip
    return render(text, values, references(text, env))


def fill_sample(sample: dict[str, Any], env, generation: str) -> dict[str, Any]:
    """A sample with ``{data_bucket}``, ``{artifact_bucket}``, ``{environment}`` and ``{generation}`` filled in."""

    def with_generation(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("{generation}", generation)
        if isinstance(value, list):
            return [with_generation(v) for v in value]
        if isinstance(value, dict):
            return {k: with_generation(v) for k, v in value.items()}
        return value

    return with_generation(fill(sample, env))


def sample_problem(name: str, sample: dict[str, Any], execution: dict[str, Any], version: str) -> str | None:
    """Why a sample execution failed (None: it succeeded on ``version`` with the expected output)."""
    if execution["status"] == "RUNNING":
        return f"sample {name}: still running at the sample timeout"
    if execution["status"] != "SUCCEEDED":
        return f"sample {name}: {execution['status']}: {execution.get('error')}: {execution.get('cause')}"
    if execution.get("version") not in (None, version):
        return f"sample {name}: ran {execution['version']}, not the deployed {version}"
    if "expect" in sample and execution["output"] != sample["expect"]:
        return f"sample {name}: output {execution['output']!r}, expected {sample['expect']!r}"
    return None
