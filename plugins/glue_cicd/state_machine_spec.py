"""Step Functions state machine specs (``state_machines/<state_machine>/state_machine.yaml``).

A state machine's folder holds its spec, ``definition.asl.json`` (Amazon States Language, with
placeholders for what the pipeline deploys: see :mod:`glue_cicd.asl`) and ``samples/*.json``
(the executions staging must run: ``{"input": ..., "expect": ...}``, where ``expect``, optional,
is the exact output; ``{data_bucket}``, ``{environment}`` and ``{generation}`` are filled in).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError

from glue_cicd.asl import check_definition, placeholder_problems
from glue_cicd.function_spec import ReleaseTargetSpec, sample_problems
from glue_cicd.paths import FUNCTIONS_DIR, JOBS_DIR, STATE_MACHINES_DIR
from glue_cicd.spec import (
    EnvironmentsConfig,
    SpecError,
    _problems,
    _read_yaml,
    load_environments,
    load_folders,
)

DEFINITION_FILE = "definition.asl.json"
SAMPLE_FIELDS = ("input", "expect")


class StateMachineSpec(ReleaseTargetSpec):
    """One state machine, as declared in ``state_machines/<state_machine>/state_machine.yaml``.

    ``traffic`` moves prod's ``live`` alias as for Lambda functions; its ``max_error_rate`` is the
    share of the new version's executions that may fail during a bake.
    """

    KIND = "states"
    ROLE_FIELD = "states_role_arn"
    type: Literal["STANDARD", "EXPRESS"] = "STANDARD"
    # How long staging's sample executions may take, together.
    sample_timeout_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 30.0

    @property
    def definition_text(self) -> str:
        """The definition as written, placeholders and all."""
        return (self.folder / DEFINITION_FILE).read_text()


def _names(folder: Path, spec_file: str) -> set[str]:
    return {p.parent.name for p in folder.glob(f"*/{spec_file}")}


def load_state_machine(
    folder: Path,
    environments: EnvironmentsConfig,
    jobs: set[str] | None = None,
    functions: set[str] | None = None,
) -> StateMachineSpec:
    """Read and validate one ``state_machine.yaml``, its definition and its samples; the
    definition may name only ``jobs`` and ``functions`` (default: the repository's)."""
    path = folder / "state_machine.yaml"
    data = _read_yaml(path)
    try:
        spec = StateMachineSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(path, _problems(StateMachineSpec, exc)) from exc
    spec._folder = folder
    problems = []
    if spec.name != folder.name:
        problems.append(f"field 'name': must equal the folder name {folder.name!r} (got {spec.name!r})")
    where = f"{folder.name}/{DEFINITION_FILE}"
    try:
        text = spec.definition_text
        definition = json.loads(text)
    except OSError:
        problems.append(f"{where}: missing (the state machine's Amazon States Language definition)")
    except ValueError as exc:
        problems.append(f"{where}: not valid JSON: {exc}")
    else:
        problems += [f"{where}: {p}" for p in check_definition(definition)]
        jobs = _names(JOBS_DIR, "job.yaml") if jobs is None else jobs
        functions = _names(FUNCTIONS_DIR, "function.yaml") if functions is None else functions
        problems += [f"{where}: {p}" for p in placeholder_problems(text, jobs, functions)]
    missing_role = [env.name for env in environments.environments.values() if env.states_role_arn is None]
    if missing_role:
        problems.append(
            f"the environments config gives no states_role_arn for {', '.join(missing_role)} "
            "(cloudformation.yaml's StatesExecutionRoleArn output)"
        )
    problems += sample_problems(folder, required="input", fields=SAMPLE_FIELDS)
    if problems:
        raise SpecError(path, problems)
    return spec


def load_state_machines(
    state_machines_dir: Path = STATE_MACHINES_DIR, environments: EnvironmentsConfig | None = None
) -> tuple[dict[str, StateMachineSpec], dict[Path, SpecError]]:
    """Every state machine under ``state_machines_dir``: the valid specs by name, and the errors by file."""
    environments = environments or load_environments()
    return load_folders(state_machines_dir, "state_machine.yaml", lambda f: load_state_machine(f, environments))
