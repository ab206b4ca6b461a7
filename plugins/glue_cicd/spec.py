"""Job specs (``glue_jobs/<job>/job.yaml``) and the environments config, as validated models.

Every problem in a file is reported in one :class:`SpecError` naming the file, the field path,
the bad value and what is allowed. Unknown keys are errors, so a typo never passes silently.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from glue_cicd.paths import ENVIRONMENTS_FILE, EXPECTATIONS_DIR, JOBS_DIR

ENVIRONMENTS = ("staging", "prod")
GLUE_VERSIONS = ("4.0", "5.0")
WORKER_TYPES = ("G.1X", "G.2X", "G.4X", "G.8X")
FORMATS = ("csv", "json", "parquet")
JOB_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Arguments the pipeline sets itself; a spec may not set them.
RESERVED_ARGUMENTS = {
    "--JOB_NAME": "set by Glue",
    "--JOB_ID": "set by Glue",
    "--JOB_RUN_ID": "set by Glue",
    "--job-language": "always python",
    "--extra-py-files": "the pipeline ships glue_runtime and the job's modules as libs.zip",
    "--additional-python-modules": "use extra_python_modules",
    "--TempDir": "set from the environment's artifact bucket",
    "--release_version": "set to the release's version at deploy time",
}
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$")


class SpecError(ValueError):
    """An invalid job spec or environments config; the message names file, field and allowed values."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        super().__init__(f"{_display(self.path)}: " + "; ".join(problems))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(JOBS_DIR.parent))
    except ValueError:
        return str(path)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Environment(_Model):
    """Where and how one environment runs."""

    name: str = ""
    aws_conn_id: str
    region: str
    glue_role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")]
    artifact_bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    data_bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    job_name_pattern: str = "{job}-{environment}"
    approvers: list[str] = []
    approval_timeout_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    require_recorded_approval: bool = True

    @field_validator("job_name_pattern")
    @classmethod
    def _pattern_names_job(cls, value: str) -> str:
        if "{job}" not in value:
            raise ValueError(f"must contain {{job}}, got {value!r}")
        try:
            value.format(job="j", environment="e")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"may only use {{job}} and {{environment}}, got {value!r}") from exc
        return value

    def glue_job_name(self, job: str) -> str:
        return self.job_name_pattern.format(job=job, environment=self.name)


class EnvironmentsConfig(_Model):
    """``infrastructure/environments.yaml``."""

    environments: dict[Literal["staging", "prod"], Environment]
    ledger_table: str
    alerts_topic_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$")]
    revalidation_schedule: str = "@daily"

    @model_validator(mode="after")
    def _both_environments(self) -> EnvironmentsConfig:
        missing = [env for env in ENVIRONMENTS if env not in self.environments]
        if missing:
            raise ValueError(f"environments must define {', '.join(ENVIRONMENTS)}; missing {', '.join(missing)}")
        for name, env in self.environments.items():
            object.__setattr__(env, "name", name)
        return self

    def __getitem__(self, name: str) -> Environment:
        return self.environments[name]  # type: ignore[index]


PathPerEnvironment = str | dict[Literal["staging", "prod"], str]


class Dataset(_Model):
    """A named input or output of a job, passed to the script as ``--<argument> <path>``."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    argument: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
    format: Literal["csv", "json", "parquet"] | None = None
    path: PathPerEnvironment | None = None
    description: str = ""

    def path_in(self, env: Environment) -> str:
        """The dataset's S3 URI in ``env`` (``{data_bucket}`` and ``{environment}`` filled in)."""
        raw = self.path if isinstance(self.path, str) else (self.path or {})[env.name]  # type: ignore[index]
        return raw.format(data_bucket=env.data_bucket, environment=env.name)


class InputDataset(Dataset):
    """An input: its own ``path``, or ``from: <job>.<output>`` (another job's output)."""

    from_: Annotated[str | None, Field(alias="from", pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")] = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _path_or_from(self) -> InputDataset:
        if (self.path is None) == (self.from_ is None):
            raise ValueError("give exactly one of 'path' or 'from' (another job's output, <job>.<output>)")
        if self.path is not None and self.format is None:
            raise ValueError(f"'format' is required with 'path'; allowed: {', '.join(FORMATS)}")
        return self


class OutputDataset(Dataset):
    """An output, gated by a Great Expectations suite (``expectations/<suite>.json``)."""

    path: PathPerEnvironment
    format: Literal["csv", "json", "parquet"]
    suite: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    partition_by: list[str] = []


class Datasets(_Model):
    inputs: list[InputDataset] = []
    outputs: Annotated[list[OutputDataset], Field(min_length=1)]


class JobSpec(_Model):
    """One Glue job, as declared in ``glue_jobs/<job>/job.yaml``."""

    name: str
    description: Annotated[str, Field(min_length=1)]
    owners: Annotated[list[str], Field(min_length=1)]
    glue_version: Literal["4.0", "5.0"]
    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"]
    number_of_workers: Annotated[int, Field(ge=2, le=1000)]
    timeout_minutes: Annotated[int, Field(ge=1, le=10080)] = 60
    max_retries: Annotated[int, Field(ge=0, le=10)] = 0
    max_concurrent_runs: Annotated[int, Field(ge=1, le=1000)] = 1
    default_arguments: dict[str, str] = {}
    extra_python_modules: list[str] = []
    datasets: Datasets
    tags: dict[str, str] = {}
    _folder: Path = PrivateAttr(default=Path())

    @field_validator("glue_version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return f"{value:.1f}" if isinstance(value, float) else value

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not JOB_NAME.match(value):
            raise ValueError(f"must be lowercase letters, digits and _, starting with a letter, got {value!r}")
        return value

    @field_validator("default_arguments")
    @classmethod
    def _arguments(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not key.startswith("--"):
                raise ValueError(f"argument names start with '--', got {key!r}")
            if key in RESERVED_ARGUMENTS:
                raise ValueError(f"{key!r} is reserved ({RESERVED_ARGUMENTS[key]})")
        return value

    @field_validator("extra_python_modules")
    @classmethod
    def _pinned(cls, value: list[str]) -> list[str]:
        for module in value:
            if not PIN.match(module):
                raise ValueError(f"pin each module exactly as name==version, got {module!r}")
        return value

    @model_validator(mode="after")
    def _datasets_consistent(self) -> JobSpec:
        datasets = [*self.datasets.inputs, *self.datasets.outputs]
        names = [d.name for d in datasets]
        arguments = [f"--{d.argument}" for d in datasets]
        for label, values in (("dataset name", names), ("dataset argument", arguments)):
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                raise ValueError(f"duplicate {label}: {', '.join(duplicates)}")
        clash = sorted(set(arguments) & (set(self.default_arguments) | set(RESERVED_ARGUMENTS)))
        if clash:
            raise ValueError(f"dataset argument {', '.join(clash)} is also a default or reserved argument")
        return self

    @property
    def folder(self) -> Path:
        """The job's folder (``glue_jobs/<name>``)."""
        return self._folder

    def output(self, name: str) -> OutputDataset:
        return next(d for d in self.datasets.outputs if d.name == name)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(path, [f"cannot read the file: {exc.strerror}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(path, [f"not valid YAML{where}: {getattr(exc, 'problem', exc)}"]) from exc
    if data is None:
        raise SpecError(path, ["the file is empty; expected a mapping of fields"])
    if not isinstance(data, dict):
        raise SpecError(path, [f"expected a mapping of fields at the top level, got {type(data).__name__}"])
    return data


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"] if part not in ("function-after",)) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (check its spelling)"
        elif error["type"] == "missing":
            message = "required field is missing"
        given = "" if error["type"] == "missing" else f" (got {error['input']!r})"
        if error["type"] in ("model_type", "dict_type") or isinstance(error.get("input"), dict):
            given = ""
        problems.append(f"field '{field}': {message}{given}")
    return problems


def load_environments(path: Path = ENVIRONMENTS_FILE) -> EnvironmentsConfig:
    """Read and validate the environments config."""
    data = _read_yaml(path)
    try:
        return EnvironmentsConfig.model_validate(data)
    except ValidationError as exc:
        raise SpecError(path, _problems(exc)) from exc


def load_job(folder: Path, environments: EnvironmentsConfig) -> JobSpec:
    """Read and validate one ``job.yaml``; checks that need other jobs are in :func:`load_jobs`."""
    path = folder / "job.yaml"
    data = _read_yaml(path)
    try:
        spec = JobSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(path, _problems(exc)) from exc
    spec._folder = folder
    problems = []
    if spec.name != folder.name:
        problems.append(f"field 'name': must equal the folder name {folder.name!r} (got {spec.name!r})")
    if not (folder / "job.py").is_file():
        problems.append(f"the job's entry script {folder.name}/job.py is missing")
    for i, output in enumerate(spec.datasets.outputs):
        where = f"datasets.outputs.{i}"
        if not (EXPECTATIONS_DIR / f"{output.suite}.json").is_file():
            known = sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))
            problems.append(
                f"field '{where}.suite': unknown suite {output.suite!r}; known suites: {', '.join(known) or 'none'}"
            )
        for env in environments.environments.values():
            problems += _check_path(output, env, f"{where}.path", must_be_in_bucket=True)
    for i, dataset in enumerate(spec.datasets.inputs):
        if dataset.path is not None:
            for env in environments.environments.values():
                problems += _check_path(dataset, env, f"datasets.inputs.{i}.path", must_be_in_bucket=False)
    if problems:
        raise SpecError(path, problems)
    return spec


def _check_path(dataset: Dataset, env: Environment, field: str, *, must_be_in_bucket: bool) -> list[str]:
    if isinstance(dataset.path, dict) and env.name not in dataset.path:
        return [
            f"field '{field}': no path for environment {env.name!r}; "
            f"give one per environment: {', '.join(ENVIRONMENTS)}"
        ]
    try:
        uri = dataset.path_in(env)
    except (KeyError, IndexError, ValueError):
        return [f"field '{field}': only {{data_bucket}} and {{environment}} may be used, got {dataset.path!r}"]
    if not re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+$", uri):
        return [f"field '{field}': must be an s3://bucket/prefix URI, got {uri!r}"]
    bucket = uri[5:].split("/", 1)[0]
    if must_be_in_bucket and bucket != env.data_bucket:
        return [
            f"field '{field}': {env.name} output {uri!r} is outside the environment's data bucket "
            f"{env.data_bucket!r}; use s3://{{data_bucket}}/..."
        ]
    return []


def load_jobs(
    jobs_dir: Path = JOBS_DIR, environments: EnvironmentsConfig | None = None
) -> tuple[dict[str, JobSpec], dict[Path, SpecError]]:
    """Every job under ``jobs_dir``: the valid specs by name, and the errors by file.

    One bad spec never hides the others. An input ``from`` an unknown job or output is an error
    of the job that declares it.
    """
    environments = environments or load_environments()
    specs: dict[str, JobSpec] = {}
    errors: dict[Path, SpecError] = {}
    for folder in sorted(p.parent for p in jobs_dir.glob("*/job.yaml")):
        try:
            specs[folder.name] = load_job(folder, environments)
        except SpecError as exc:
            errors[exc.path] = exc
    for name, spec in list(specs.items()):
        problems = []
        for i, dataset in enumerate(spec.datasets.inputs):
            if dataset.from_ is None:
                continue
            job, output = dataset.from_.split(".")
            source = specs.get(job)
            if source is None or output not in {o.name for o in source.datasets.outputs}:
                known = sorted(f"{j}.{o.name}" for j, s in specs.items() if j != name for o in s.datasets.outputs)
                problems.append(
                    f"field 'datasets.inputs.{i}.from': unknown output {dataset.from_!r}; "
                    f"known: {', '.join(known) or 'none'}"
                )
        if problems:
            path = spec.folder / "job.yaml"
            errors[path] = SpecError(path, problems)
            del specs[name]
    return specs, errors


def input_path(spec: JobSpec, dataset: InputDataset, env: Environment, specs: dict[str, JobSpec]) -> str:
    """An input's S3 URI in ``env``, following ``from`` to the producing job's output."""
    if dataset.from_ is None:
        return dataset.path_in(env)
    job, output = dataset.from_.split(".")
    return specs[job].output(output).path_in(env)


def input_format(dataset: InputDataset, specs: dict[str, JobSpec]) -> str:
    if dataset.from_ is None:
        return dataset.format  # type: ignore[return-value]
    job, output = dataset.from_.split(".")
    return specs[job].output(output).format
