"""Lambda function specs (``lambda_functions/<function>/function.yaml``), validated like job specs.

A function's folder holds its spec, its handler module(s), ``tests/`` (its pytest suite, not
shipped) and ``samples/*.json`` (events staging is smoke-invoked with, not shipped): each
``{"event": ..., "expect": ...}``, where ``expect`` (optional) is the exact result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import AfterValidator, Field, PrivateAttr, ValidationError, field_validator

from glue_cicd.paths import FUNCTIONS_DIR
from glue_cicd.spec import (
    PIN,
    EnvironmentsConfig,
    SpecError,
    _Model,
    _placeholders,
    _problems,
    _read_yaml,
    _shaped,
    load_environments,
    load_folders,
)

Runtime = Literal["python3.11", "python3.12", "python3.13"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)
# Placeholders the deploy step fills in per environment in a function's environment variables.
VARIABLE_PLACEHOLDERS = ("data_bucket", "artifact_bucket", "environment", "function")
# Variables AWS reserves (lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})  # fmt: skip
SAMPLE_FIELDS = ("event", "expect")


def _pinned(value: str) -> str:
    if not PIN.match(value):
        raise ValueError("pin the package exactly as name==version, e.g. requests==2.32.3")
    return value


def _variable_name(value: str) -> str:
    if value in RESERVED_VARIABLES:
        raise ValueError("is reserved by AWS Lambda's runtime")
    return value


class TrafficShift(_Model):
    """How prod's ``live`` alias moves to a new version: each step routes that percentage of calls
    to it for ``bake_minutes`` while its errors are watched, then all calls go to it. One step is
    a canary, several a linear shift. Errors above ``max_error_rate`` (of the new version's
    invocations in a step) put every call back on the previous version."""

    steps: Annotated[list[Annotated[int, Field(ge=1, le=99)]], Field(min_length=1, max_length=10)] = [10]
    bake_minutes: Annotated[float, Field(gt=0, le=1440)] = 10.0
    max_error_rate: Annotated[float, Field(ge=0, le=1)] = 0.0

    @field_validator("steps")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(value, value[1:], strict=False)):
            raise ValueError("each step must route more traffic than the one before (e.g. [10, 50])")
        return value


class ReleaseTargetSpec(_Model):
    """What the specs of alias-routed release targets share (Lambda functions, state machines):
    ``KIND`` names them in the ledger, ``ROLE_FIELD`` is the environment's default role."""

    KIND: ClassVar[str]
    ROLE_FIELD: ClassVar[str]
    name: Annotated[
        str, _shaped(r"[a-z][a-z0-9_]{0,47}", "1-48 lowercase letters, digits and _, starting with a letter")
    ]
    description: Annotated[str, Field(min_length=1, max_length=256)]
    owners: Annotated[list[str], Field(min_length=1)]
    # An IAM role name in the environment's account; without it, the environment's ROLE_FIELD.
    role: Annotated[str, _shaped(r"[\w+=,.@-]{1,64}", "an IAM role name")] | None = None
    traffic: TrafficShift = TrafficShift()
    tags: dict[str, str] = {}
    _folder: Path = PrivateAttr(default=Path())

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def target(self) -> str:
        """The target's name in the ledger and its locks (beside the Glue jobs' names)."""
        return f"{self.KIND}:{self.name}"

    def role_arn(self, env) -> str:
        """The role the target runs under in ``env``."""
        default = getattr(env, self.ROLE_FIELD)
        if self.role is None:
            return default
        return default.rsplit(":role/", 1)[0] + f":role/{self.role}"

    def samples(self) -> dict[str, dict[str, Any]]:
        """The samples by file name (validated when the spec loads)."""
        return {path.stem: json.loads(path.read_text()) for path in sorted((self.folder / "samples").glob("*.json"))}


class FunctionSpec(ReleaseTargetSpec):
    """One Lambda function, as declared in ``lambda_functions/<function>/function.yaml``."""

    KIND = "lambda"
    ROLE_FIELD = "lambda_role_arn"
    runtime: Runtime
    handler: Annotated[
        str, _shaped(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+", "<module>.<function>, e.g. handler.handle")
    ]
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = 128
    timeout_seconds: Annotated[int, Field(ge=1, le=900)] = 3
    environment: dict[
        Annotated[str, _shaped(r"[A-Za-z][A-Za-z0-9_]*", "letters, digits and _"), AfterValidator(_variable_name)],
        Annotated[str, _placeholders(VARIABLE_PLACEHOLDERS)],
    ] = {}
    # Packages installed into the deployment package (pip install --no-deps: pin dependencies too).
    requirements: list[Annotated[str, AfterValidator(_pinned)]] = []

    def variables(self, env) -> dict[str, str]:
        """The function's environment variables in ``env``, placeholders filled in."""
        values = {"data_bucket": env.data_bucket, "artifact_bucket": env.artifact_bucket,
                  "environment": env.name, "function": env.function_name(self.name)}  # fmt: skip
        return {name: value.format(**values) for name, value in self.environment.items()}


def sample_problems(folder: Path, required: str = "event", fields: tuple[str, ...] = SAMPLE_FIELDS) -> list[str]:
    """What is wrong with ``folder``'s ``samples/*.json``: each an object with ``required`` and
    only ``fields``; there must be one at least (staging is tried with them)."""
    problems = []
    paths = sorted((folder / "samples").glob("*.json"))
    if not paths:
        problems.append(f"{folder.name}/samples/ holds no sample (<name>.json with an {required!r}): staging "
                        "is tried with them")  # fmt: skip
    for path in paths:
        where = f"{folder.name}/samples/{path.name}"
        try:
            sample = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            problems.append(f"{where}: not valid JSON: {exc}")
            continue
        if not isinstance(sample, dict) or required not in sample:
            others = " and optionally ".join(repr(f) for f in fields if f != required)
            problems.append(
                f"{where}: expected an object with {required!r}" + (f" (and optionally {others})" if others else "")
            )
        elif unknown := sorted(set(sample) - set(fields)):
            problems.append(f"{where}: unknown field {', '.join(unknown)}; allowed: {', '.join(fields)}")
    return problems


def load_function(folder: Path, environments: EnvironmentsConfig) -> FunctionSpec:
    """Read and validate one ``function.yaml``, its handler module and its samples."""
    path = folder / "function.yaml"
    data = _read_yaml(path)
    try:
        spec = FunctionSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(path, _problems(FunctionSpec, exc)) from exc
    spec._folder = folder
    problems = []
    if spec.name != folder.name:
        problems.append(f"field 'name': must equal the folder name {folder.name!r} (got {spec.name!r})")
    module = spec.handler.rpartition(".")[0].replace(".", "/")
    if not (folder / f"{module}.py").is_file() and not (folder / module / "__init__.py").is_file():
        problems.append(f"field 'handler': no module {module}.py in {folder.name}/ (got {spec.handler!r})")
    missing_role = [env.name for env in environments.environments.values() if env.lambda_role_arn is None]
    if missing_role:
        problems.append(
            f"the environments config gives no lambda_role_arn for {', '.join(missing_role)} "
            "(cloudformation.yaml's LambdaExecutionRoleArn output)"
        )
    problems += sample_problems(folder)
    if problems:
        raise SpecError(path, problems)
    return spec


def load_functions(
    functions_dir: Path = FUNCTIONS_DIR, environments: EnvironmentsConfig | None = None
) -> tuple[dict[str, FunctionSpec], dict[Path, SpecError]]:
    """Every function under ``functions_dir``: the valid specs by name, and the errors by file."""
    environments = environments or load_environments()
    return load_folders(functions_dir, "function.yaml", lambda folder: load_function(folder, environments))
