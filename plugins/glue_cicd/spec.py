"""Job specs (``glue_jobs/<job>/job.yaml``) and the environments config, as validated models.

Every problem in a file is reported in one :class:`SpecError` naming the file, the field path,
the bad value and what is allowed. Unknown keys (and keys repeated in a mapping) are errors, so a
typo never passes silently.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Hashable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from glue_cicd.errors import Refusal
from glue_cicd.paths import EXPECTATIONS_DIR, JOBS_DIR, environments_file

EnvironmentName = Literal["staging", "prod"]
GlueVersion = Literal["4.0", "5.0"]
WorkerType = Literal["G.1X", "G.2X", "G.4X", "G.8X"]
Format = Literal["csv", "json", "parquet"]
ENVIRONMENTS: tuple[str, ...] = get_args(EnvironmentName)
GLUE_VERSIONS: tuple[str, ...] = get_args(GlueVersion)
WORKER_TYPES: tuple[str, ...] = get_args(WorkerType)
FORMATS: tuple[str, ...] = get_args(Format)
# Placeholders the deploy step fills in per environment.
PATH_PLACEHOLDERS = ("data_bucket", "environment")
ARGUMENT_PLACEHOLDERS = ("data_bucket", "artifact_bucket", "environment", "job")
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
CRON_PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly")
BOOKMARK_OPTIONS = ("job-bookmark-enable", "job-bookmark-disable", "job-bookmark-pause")
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$")


class SpecError(Refusal, ValueError):
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


def _shaped(pattern: str, description: str) -> AfterValidator:
    """A validator: the whole text matches ``pattern``, else "must be <description>"."""
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"must be {description}")
        return value

    return AfterValidator(check)


def _placeholders(allowed: tuple[str, ...]) -> AfterValidator:
    """A validator: the text uses no ``{placeholder}`` but ``allowed`` ones (``{{``/``}}`` are literal)."""
    listing = ", ".join(f"{{{name}}}" for name in allowed)

    def check(value: str) -> str:
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError:
            raise ValueError(
                f"unbalanced {{ or }}; allowed placeholders: {listing}; write {{{{ or }}}} for a literal brace"
            ) from None
        bad = [
            "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            for _, field, spec, conversion in parts
            if field is not None and (field not in allowed or spec or conversion)
        ]
        if bad:
            raise ValueError(f"unknown placeholder {', '.join(bad)}; allowed placeholders: {listing}")
        return value

    return AfterValidator(check)


Identifier = Annotated[str, _shaped(r"[a-z][a-z0-9_]*", "lowercase letters, digits and _, starting with a letter")]
RoleArn = Annotated[
    str, _shaped(r"arn:aws[a-z-]*:iam::\d{12}:role/.+", "an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>")
]
Bucket = Annotated[str, _shaped(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name (3-63 of a-z 0-9 . -)")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retention(_Model):
    """How long the data generations no consumer reads are kept (the published one always is)."""

    # Generations published by this many latest releases stay, so a rollback can restore them.
    keep_releases: Annotated[int, Field(ge=1, le=100)] = 5
    # Any generation younger than this stays (shadow outputs a reviewer may still inspect).
    keep_days: Annotated[float, Field(ge=0, le=3650)] = 7.0


class DistributedChecks(_Model):
    """When a dataset's checks run as a Glue job on Spark rather than in the Airflow worker.

    A Parquet dataset whose data files hold at least ``min_rows`` rows (from their footers) or
    ``min_bytes`` bytes is audited, diffed and revalidated by the environment's checks job
    (``job_name``, created by the pipeline); smaller ones, and CSV or JSON outputs, in-process.
    """

    min_rows: Annotated[int, Field(ge=1)] | None = 5_000_000
    min_bytes: Annotated[int, Field(ge=1)] | None = 1024**3
    job_name: Annotated[str, _placeholders(("environment",))] = "glue-cicd-checks-{environment}"
    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"] = "G.1X"
    number_of_workers: Annotated[int, Field(ge=2, le=299)] = 2
    timeout_minutes: Annotated[int, Field(ge=1, le=2880)] = 120
    # Runs of the checks job per check: a run that fails (an infrastructure error, never a data
    # verdict) is started again this many times in all before the task fails.
    attempts: Annotated[int, Field(ge=1, le=5)] = 2

    def distributed(self, rows: int | None, size: int) -> bool:
        """Whether a dataset of ``rows`` (None: unknown) rows and ``size`` bytes goes to the checks job."""
        return (self.min_bytes is not None and size >= self.min_bytes) or (
            self.min_rows is not None and rows is not None and rows >= self.min_rows
        )


class Environment(_Model):
    """Where and how one environment runs; ``name`` is set from its key in the config."""

    name: str = ""
    aws_conn_id: str
    region: str
    glue_role_arn: RoleArn
    artifact_bucket: Bucket
    data_bucket: Bucket
    job_name_pattern: Annotated[str, _placeholders(("job", "environment"))] = "{job}-{environment}"
    approvers: list[str] = []
    approval_timeout_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    require_recorded_approval: bool = True
    # How often a release polls a running Glue job (GetJobRun and the driver's log). Every poll
    # costs CloudWatch Logs calls (a few per second per account), so real AWS wants tens of seconds.
    glue_poll_seconds: Annotated[float, Field(ge=0.5, le=600)] = 15.0
    # The Glue database consumers read the environment's output datasets from (one table each).
    catalog_database: Annotated[
        str, _shaped(r"[a-z][a-z0-9_]{0,254}", "a Glue database name: lowercase letters, digits and _")
    ]
    # The role of shadow runs: unapproved candidate code on prod's inputs, writing generations only.
    shadow_glue_role_arn: RoleArn | None = None
    # The role of the checks job (distributed_checks), which reads datasets and writes only its
    # results (cloudformation.yaml's GlueChecksRoleArn); without it, glue_role_arn.
    checks_glue_role_arn: RoleArn | None = None
    retention: Retention = Retention()
    # Lambda functions (lambda_functions/): the role they run under unless a function names its
    # own, their names, how often a bake reads the new version's metrics, and (the emulator's
    # file only) a shorter bake than the functions declare.
    lambda_role_arn: RoleArn | None = None
    function_name_pattern: Annotated[str, _placeholders(("function", "environment"))] = "{function}-{environment}"
    bake_poll_seconds: Annotated[float, Field(ge=0.5, le=600)] = 30.0
    bake_minutes_override: Annotated[float, Field(gt=0, le=1440)] | None = None
    # Step Functions state machines (state_machines/): the role they run under
    # (cloudformation.yaml's StatesExecutionRoleArn) and their names.
    states_role_arn: RoleArn | None = None
    state_machine_name_pattern: Annotated[str, _placeholders(("state_machine", "environment"))] = (
        "{state_machine}-{environment}"
    )

    @field_validator("state_machine_name_pattern")
    @classmethod
    def _pattern_names_state_machine(cls, value: str) -> str:
        if "{state_machine}" not in value:
            raise ValueError("must contain {state_machine}")
        return value

    def state_machine_name(self, state_machine: str) -> str:
        """The state machine's name for ``state_machine`` in this environment."""
        return self.state_machine_name_pattern.format(state_machine=state_machine, environment=self.name)

    @field_validator("function_name_pattern")
    @classmethod
    def _pattern_names_function(cls, value: str) -> str:
        if "{function}" not in value:
            raise ValueError("must contain {function}")
        return value

    def function_name(self, function: str) -> str:
        """The Lambda function's name for ``function`` in this environment."""
        return self.function_name_pattern.format(function=function, environment=self.name)

    @field_validator("job_name_pattern")
    @classmethod
    def _pattern_names_job(cls, value: str) -> str:
        if "{job}" not in value:
            raise ValueError("must contain {job}")
        return value

    def glue_job_name(self, job: str) -> str:
        """The Glue job's name for ``job`` in this environment."""
        return self.job_name_pattern.format(job=job, environment=self.name)

    def shadow_job_name(self, job: str) -> str:
        """The Glue job that runs a release's candidate version beside the live one (shadow runs)."""
        return self.glue_job_name(job) + "-shadow"


class ApprovalNotifications(_Model):
    """Where "an approval is waiting" messages go (one message per waiting approval and channel)."""

    # The alerts topic (``alerts_topic_arn``): subscribe e-mail, a chat bridge or a queue to it.
    sns: bool = True
    # An Airflow connection of type ``slackwebhook`` (the Slack provider's incoming webhook).
    slack_webhook_conn_id: str | None = None


class EnvironmentsConfig(_Model):
    """``infrastructure/environments.yaml``."""

    environments: dict[EnvironmentName, Environment]
    ledger_table: str
    alerts_topic_arn: Annotated[
        str,
        _shaped(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+", "an SNS topic ARN: arn:aws:sns:<region>:<account>:<name>"),
    ]
    revalidation_schedule: str = "@daily"
    # The run DAGs (run__<job>) start on their schedule as soon as they are parsed; true leaves
    # them paused until someone unpauses them (local servers, where prod holds no release yet).
    run_dags_paused_upon_creation: bool = False
    approval_notifications: ApprovalNotifications = ApprovalNotifications()
    distributed_checks: DistributedChecks = DistributedChecks()

    @field_validator("environments")
    @classmethod
    def _both_environments(cls, value: dict[str, Environment]) -> dict[str, Environment]:
        missing = [env for env in ENVIRONMENTS if env not in value]
        if missing:
            raise ValueError(f"define every environment ({', '.join(ENVIRONMENTS)}); missing {', '.join(missing)}")
        if value.get("prod") is not None and value["prod"].shadow_glue_role_arn is None:
            raise ValueError(
                "prod needs shadow_glue_role_arn: the role shadow runs of unapproved code run under "
                "(cloudformation.yaml's GlueShadowRoleArn output)"
            )
        databases = [env.catalog_database for env in value.values()]
        if len(set(databases)) < len(databases):
            raise ValueError("each environment needs its own catalog_database")
        return {name: env.model_copy(update={"name": name}) for name, env in value.items()}

    def __getitem__(self, name: str) -> Environment:
        return self.environments[name]  # type: ignore[index]


def _every_environment(value: dict[str, str]) -> dict[str, str]:
    missing = [env for env in ENVIRONMENTS if env not in value]
    if missing:
        raise ValueError(f"give a path for every environment ({', '.join(ENVIRONMENTS)}); missing {', '.join(missing)}")
    return value


PathTemplate = Annotated[str, _placeholders(PATH_PLACEHOLDERS)]
# One URI template for all environments, or one per environment. The discriminator picks the
# member by Python type, so a bad value gets one message rather than one per union member.
PATH_TAGS = ("uri", "per_environment")
PathPerEnvironment = Annotated[
    Annotated[PathTemplate, Tag("uri")]
    | Annotated[dict[EnvironmentName, PathTemplate], AfterValidator(_every_environment), Tag("per_environment")],
    Discriminator(
        lambda value: "uri" if isinstance(value, str) else "per_environment" if isinstance(value, dict) else None,
        custom_error_type="path_type",
        custom_error_message="must be an s3:// URI string or a mapping with staging and prod",
    ),
]


class Dataset(_Model):
    """A named input or output of a job, passed to the script as ``--<argument> <path>``."""

    name: Identifier
    argument: Annotated[str, _shaped(r"[A-Za-z][A-Za-z0-9_]*", "letters, digits and _ without the leading --")]
    format: Format | None = None
    path: PathPerEnvironment | None = None
    description: str = ""

    @field_validator("argument")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if f"--{value}" in RESERVED_ARGUMENTS:
            raise ValueError(f"--{value} is reserved: {RESERVED_ARGUMENTS[f'--{value}']}")
        return value

    def path_in(self, env: Environment) -> str:
        """The dataset's S3 URI in ``env`` (``{data_bucket}`` and ``{environment}`` filled in)."""
        raw = self.path if isinstance(self.path, str) else (self.path or {})[env.name]  # type: ignore[index]
        return raw.format(data_bucket=env.data_bucket, environment=env.name)


class InputDataset(Dataset):
    """An input: its own ``path`` and ``format``, or ``from: <job>.<output>`` (another job's output)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: Annotated[
        str | None,
        Field(alias="from"),
        _shaped(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*", "<job>.<output>, e.g. process_sales_data.clean_sales"),
    ] = None

    @model_validator(mode="after")
    def _path_or_from(self) -> InputDataset:
        if self.path is not None and self.from_ is not None:
            raise ValueError("give 'path' or 'from', not both")
        if self.path is None and self.from_ is None:
            raise ValueError("give 'path' (and 'format') or 'from' (another job's output, <job>.<output>)")
        if self.path is not None and self.format is None:
            raise ValueError(f"'format' is required with 'path'; allowed: {', '.join(FORMATS)}")
        if self.from_ is not None and self.format is not None:
            raise ValueError("leave 'format' out with 'from': the producing job's output sets it")
        return self


ColumnName = Annotated[str, _shaped(r"[A-Za-z_][A-Za-z0-9_]*", "a column name: letters, digits and _")]


class DiffSettings(_Model):
    """How a release's data diff is judged: thresholds (omitted: no limit) and expected changes."""

    # Share of published rows a release may add, remove or change (0-1).
    max_changed_share: Annotated[float, Field(ge=0, le=1)] | None = None
    # Share of published rows a release may remove (0-1).
    max_removed_share: Annotated[float, Field(ge=0, le=1)] | None = None
    # Columns this job's releases are expected to change; others that change are called out.
    expected_changes: list[ColumnName] = []
    # Decimals at which floating-point values are compared.
    float_precision: Annotated[int, Field(ge=0, le=15)] = 6


class OutputDataset(Dataset):
    """An output, gated by a Great Expectations suite (``expectations/<suite>.json``), published as
    the catalog table ``<name>`` and diffed between releases on ``key``."""

    path: PathPerEnvironment
    format: Format
    suite: Annotated[str, _shaped(r"[A-Za-z0-9_.-]+", "a suite file name without .json")]
    partition_by: list[ColumnName] = []
    key: Annotated[list[ColumnName], Field(min_length=1)]
    diff: DiffSettings = DiffSettings()

    @model_validator(mode="after")
    def _columns_once(self) -> OutputDataset:
        for field, values in (("key", self.key), ("partition_by", self.partition_by)):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"'{field}' names {', '.join(repeated)} more than once")
        return self


class Datasets(_Model):
    """A job's inputs and outputs (at least one output)."""

    inputs: list[InputDataset] = []
    outputs: Annotated[list[OutputDataset], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> Datasets:
        problems = []
        for attribute in ("name", "argument"):
            values = [getattr(d, attribute) for d in (*self.inputs, *self.outputs)]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                problems.append(f"each dataset needs its own {attribute}; repeated: {', '.join(repeated)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _cron(value: str) -> str:
    from croniter import croniter

    if value in CRON_PRESETS:
        return value
    if not croniter.is_valid(value):
        presets = ", ".join(CRON_PRESETS)
        raise ValueError(f"must be a cron expression (minute hour day month weekday) or one of {presets}")
    return value


class RunSettings(_Model):
    """When the live prod job runs (``run__<job>``): on a schedule, after its upstream jobs publish, or both.

    ``date_argument`` makes it a job that processes one date: each run gets ``--<date_argument>
    YYYY-MM-DD``, the start of its data interval, so a date range is backfilled with Airflow's
    backfill, one audited generation per date.
    """

    schedule: Annotated[str, AfterValidator(_cron)] | None = None
    after_upstream: bool = True
    date_argument: (
        Annotated[str, _shaped(r"[A-Za-z][A-Za-z0-9_]*", "letters, digits and _ without the leading --")] | None
    ) = None

    @model_validator(mode="after")
    def _dates_need_a_schedule(self) -> RunSettings:
        if self.date_argument is not None and self.schedule is None:
            raise ValueError("date_argument needs a schedule: each run's date is the start of its schedule's interval")
        if self.date_argument is not None and f"--{self.date_argument}" in RESERVED_ARGUMENTS:
            raise ValueError(f"--{self.date_argument} is reserved: {RESERVED_ARGUMENTS[f'--{self.date_argument}']}")
        return self


def _argument_name(value: str) -> str:
    if not value.startswith("--"):
        raise ValueError("argument names start with '--'")
    if value in RESERVED_ARGUMENTS:
        raise ValueError(f"this argument is reserved: {RESERVED_ARGUMENTS[value]}")
    return value


def _pinned(value: str) -> str:
    if not PIN.match(value):
        raise ValueError("pin the module exactly as name==version, e.g. pyarrow==17.0.0")
    return value


class JobSpec(_Model):
    """One Glue job, as declared in ``glue_jobs/<job>/job.yaml``."""

    name: Annotated[
        str, _shaped(r"[a-z][a-z0-9_]{0,62}", "1-63 lowercase letters, digits and _, starting with a letter")
    ]
    description: Annotated[str, Field(min_length=1)]
    owners: Annotated[list[str], Field(min_length=1)]
    glue_version: GlueVersion
    worker_type: WorkerType
    number_of_workers: Annotated[int, Field(ge=2, le=1000)]
    timeout_minutes: Annotated[int, Field(ge=1, le=10080)] = 60
    max_retries: Annotated[int, Field(ge=0, le=10)] = 0
    max_concurrent_runs: Annotated[int, Field(ge=1, le=1000)] = 1
    default_arguments: dict[
        Annotated[str, AfterValidator(_argument_name)], Annotated[str, _placeholders(ARGUMENT_PLACEHOLDERS)]
    ] = {}
    extra_python_modules: list[Annotated[str, AfterValidator(_pinned)]] = []
    datasets: Datasets
    run: RunSettings = RunSettings()
    tags: dict[str, str] = {}
    _folder: Path = PrivateAttr(default=Path())

    @field_validator("glue_version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        """YAML reads an unquoted 5.0 as a float."""
        return str(value) if isinstance(value, float) else value

    @field_validator("default_arguments")
    @classmethod
    def _known_bookmark_option(cls, value: dict[str, str]) -> dict[str, str]:
        option = value.get("--job-bookmark-option")
        if option is not None and option not in BOOKMARK_OPTIONS:
            raise ValueError(f"--job-bookmark-option {option!r} is not one of {', '.join(BOOKMARK_OPTIONS)}")
        return value

    @field_validator("datasets")
    @classmethod
    def _arguments_not_repeated(cls, value: Datasets, info: ValidationInfo) -> Datasets:
        arguments = {f"--{d.argument}" for d in (*value.inputs, *value.outputs)}
        clash = sorted(arguments & set(info.data.get("default_arguments", {})))
        if clash:
            raise ValueError(f"dataset argument {', '.join(clash)} is also set in default_arguments")
        return value

    @model_validator(mode="after")
    def _date_argument_is_new(self) -> JobSpec:
        name = self.run.date_argument
        if name is None:
            return self
        taken = {d.argument for d in (*self.datasets.inputs, *self.datasets.outputs)}
        if name in taken or f"--{name}" in self.default_arguments:
            raise ValueError(f"run.date_argument --{name} is already a dataset argument or in default_arguments")
        if self.run.after_upstream and any(d.from_ for d in self.datasets.inputs):
            raise ValueError(
                "run.after_upstream: a job with a date_argument runs on its schedule only (a run started by an "
                "upstream publish has no date interval); set after_upstream: false"
            )
        return self

    @property
    def upstream(self) -> list[str]:
        """The ``<job>.<output>`` datasets whose publish starts a run (empty: schedule only)."""
        return [d.from_ for d in self.datasets.inputs if d.from_] if self.run.after_upstream else []

    @property
    def folder(self) -> Path:
        """The job's folder (``glue_jobs/<name>``)."""
        return self._folder

    def output(self, name: str) -> OutputDataset:
        """The output dataset called ``name``."""
        return next(d for d in self.datasets.outputs if d.name == name)


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader, on libyaml when PyYAML has it (10x the pure-Python parser, which
    dominated DAG parsing), refusing a key repeated in one mapping (PyYAML keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            # A plain scalar's text is its key (no need to build it twice); other keys are built.
            is_text = isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:str"
            key = key_node.value if is_text else self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping", node.start_mark, f"repeated key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(path, [f"cannot read the file: {exc.strerror}"]) from exc
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a safe loader: builds plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(path, [f"not valid YAML{where}: {getattr(exc, 'problem', exc)}"]) from exc
    if data is None:
        raise SpecError(path, ["the file is empty; expected a mapping of fields"])
    if not isinstance(data, dict):
        raise SpecError(path, [f"expected a mapping of fields at the top level, got a {type(data).__name__}"])
    return data


# Location parts pydantic adds that are not the user's keys: union members ('str',
# 'dict[...]'), validators ('function-after[...]'), dict keys ('[key]') and our PATH_TAGS.
_SCHEMA_LABEL = re.compile(r"^(str|int|float|bool|none|[a-z-]*\[.*\])$")


def _node_at(model: type[BaseModel], loc: list[str | int]) -> Any:
    """The type that validates ``loc`` in ``model``, following model fields, list items and dict values."""
    node: Any = model
    for part in loc:
        if _is_model(node):
            node = next((f.annotation for n, f in node.model_fields.items() if part in (n, f.alias)), None)
        else:
            args = [arg for arg in get_args(node) if arg is not type(None)]
            node = args[-1] if args else None
    return node


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _problems(model: type[BaseModel], exc: ValidationError) -> list[str]:
    """One line per pydantic error: the user's field path, what is wrong and allowed, the bad value."""
    problems = []
    for error in exc.errors():
        loc = [p for p in error["loc"] if not (isinstance(p, str) and (p in PATH_TAGS or _SCHEMA_LABEL.match(p)))]
        kind, value = error["type"], error.get("input")
        message = error["msg"].removeprefix("Value error, ")
        given = f" (got {value!r})"
        if kind == "missing":
            message, given = "required field is missing", ""
        elif kind == "extra_forbidden":
            holder = _node_at(model, loc[:-1])
            allowed = [f.alias or n for n, f in holder.model_fields.items()] if _is_model(holder) else []
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            message, given = f"unknown field; {hint}allowed: {', '.join(allowed)}", ""
        elif kind == "model_type":
            message = "Input should be a mapping of fields"
        elif kind == "string_type" and isinstance(value, bool | int | float):
            message += "; quote the value in YAML"
        if isinstance(value, dict) and _is_model(_node_at(model, loc)):
            given = ""  # the error is about the object as a whole
        elif given and isinstance(value, dict | list) and len(repr(value)) > 60:
            shape = f"mapping with keys {', '.join(map(str, value))}" if isinstance(value, dict) else "list"
            given = f" (got a {shape})"
        field = ".".join(str(part) for part in loc)
        problems.append(f"field '{field}': {message}{given}" if field else f"{message}{given}")
    return problems


def load_environments(path: Path | None = None) -> EnvironmentsConfig:
    """Read and validate the environments config (``GLUE_CICD_ENVIRONMENTS_FILE`` when it is set
    as this is called, otherwise the strict default)."""
    path = path or environments_file()
    data = _read_yaml(path)
    try:
        return EnvironmentsConfig.model_validate(data)
    except ValidationError as exc:
        raise SpecError(path, _problems(EnvironmentsConfig, exc)) from exc


def load_job(folder: Path, environments: EnvironmentsConfig, expectations_dir: Path = EXPECTATIONS_DIR) -> JobSpec:
    """Read and validate one ``job.yaml``; checks that need other jobs are in :func:`load_jobs`."""
    path = folder / "job.yaml"
    data = _read_yaml(path)
    try:
        spec = JobSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(path, _problems(JobSpec, exc)) from exc
    spec._folder = folder
    problems = []
    if spec.name != folder.name:
        problems.append(f"field 'name': must equal the folder name {folder.name!r} (got {spec.name!r})")
    if not (folder / "job.py").is_file():
        problems.append(f"the job's entry script {folder.name}/job.py is missing")
    for i, output in enumerate(spec.datasets.outputs):
        where = f"datasets.outputs.{i}"
        if not (expectations_dir / f"{output.suite}.json").is_file():
            known = ", ".join(sorted(p.stem for p in expectations_dir.glob("*.json"))) or "none"
            problems.append(
                f"field '{where}.suite': no such suite in {expectations_dir.name}/; known suites: {known} "
                f"(got {output.suite!r})"
            )
        envs = environments.environments.values()
        path_problems = [p for env in envs for p in _check_path(output, env, f"{where}.path", must_be_in_bucket=True)]
        problems += path_problems
        if not path_problems and len({output.path_in(env) for env in envs}) < len(envs):
            problems.append(
                f"field '{where}.path': every environment would write to {output.path_in(environments['prod'])!r}; "
                "use {data_bucket} or {environment} in the path"
            )
    for i, dataset in enumerate(spec.datasets.inputs):
        if dataset.path is not None:
            for env in environments.environments.values():
                problems += _check_path(dataset, env, f"datasets.inputs.{i}.path", must_be_in_bucket=False)
    if problems:
        raise SpecError(path, problems)
    return spec


def _check_path(dataset: Dataset, env: Environment, field: str, *, must_be_in_bucket: bool) -> list[str]:
    uri = dataset.path_in(env)
    if not re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+$", uri):
        return [f"field '{field}': must be an s3://bucket/prefix URI in {env.name} (got {uri!r})"]
    bucket = uri[5:].split("/", 1)[0]
    if must_be_in_bucket and bucket != env.data_bucket:
        return [
            f"field '{field}': {env.name} output {uri!r} is outside the environment's data bucket "
            f"{env.data_bucket!r}; use s3://{{data_bucket}}/..."
        ]
    return []


def load_folders(root: Path, spec_file: str, load) -> tuple[dict[str, Any], dict[Path, SpecError]]:
    """``load(folder)`` for each folder of ``root`` holding ``spec_file``: the valid specs by
    folder name, and the errors by file (one bad spec never hides another)."""
    specs: dict[str, Any] = {}
    errors: dict[Path, SpecError] = {}
    for folder in sorted(p.parent for p in root.glob(f"*/{spec_file}")):
        try:
            specs[folder.name] = load(folder)
        except SpecError as exc:
            errors[exc.path] = exc
    return specs, errors


def load_jobs(
    jobs_dir: Path = JOBS_DIR,
    environments: EnvironmentsConfig | None = None,
    expectations_dir: Path = EXPECTATIONS_DIR,
) -> tuple[dict[str, JobSpec], dict[Path, SpecError]]:
    """Every job under ``jobs_dir``: the valid specs by name, and the errors by file.

    One bad spec never hides the others. An input ``from`` an unknown or invalid job (or an
    unknown output) is an error of the job that declares it, and so on down the chain.
    """
    environments = environments or load_environments()
    specs, errors = load_folders(jobs_dir, "job.yaml", lambda folder: load_job(folder, environments, expectations_dir))
    owner: dict[str, str] = {}
    for name, spec in list(specs.items()):  # each output is one catalog table: names are global
        taken = [f"{o.name} (already {owner[o.name]}'s)" for o in spec.datasets.outputs if o.name in owner]
        if taken:
            path = spec.folder / "job.yaml"
            errors[path] = SpecError(
                path, [f"field 'datasets.outputs': output names are catalog table names; taken: {', '.join(taken)}"]
            )
            del specs[name]
        else:
            owner.update({o.name: name for o in spec.datasets.outputs})
    invalid = {path.parent.name for path in errors}
    broken: list[JobSpec] = []
    while True:  # dropping a job can break the jobs that read its outputs
        newly = [spec for name, spec in specs.items() if _source_problems(spec, specs, invalid)]
        if not newly:
            break
        for spec in newly:
            broken.append(specs.pop(spec.name))
            invalid.add(spec.name)
    for spec in broken:  # reported against the final set of valid jobs
        path = spec.folder / "job.yaml"
        errors[path] = SpecError(path, _source_problems(spec, specs, invalid))
    return specs, errors


def _source_problems(spec: JobSpec, specs: dict[str, JobSpec], invalid: set[str]) -> list[str]:
    """What is wrong with the inputs of ``spec`` read ``from`` other jobs' outputs."""

    def known() -> str:  # only built for an error: the list is as long as all the outputs
        outputs = (f"{j}.{o.name}" for j, s in specs.items() if j != spec.name for o in s.datasets.outputs)
        return ", ".join(sorted(outputs))

    problems = []
    for i, dataset in enumerate(spec.datasets.inputs):
        if dataset.from_ is None:
            continue
        job, output = dataset.from_.split(".")
        if job == spec.name:
            problem = "a job cannot read its own output"
        elif job in invalid:
            problem = f"job {job!r} has an invalid spec (see its error)"
        elif job not in specs:
            problem = f"unknown job {job!r}; known outputs: {known() or 'none'}"
        elif output not in {o.name for o in specs[job].datasets.outputs}:
            problem = f"job {job!r} has no output {output!r}; known outputs: {known()}"
        else:
            continue
        problems.append(f"field 'datasets.inputs.{i}.from': {problem} (got {dataset.from_!r})")
    return problems


def input_argument(dataset: InputDataset, env: Environment) -> str:
    """What the job gets for an input in ``env``: its S3 URI, or for another job's output the
    catalog table consumers read it from (``<database>.<output>``)."""
    if dataset.from_ is None:
        return dataset.path_in(env)
    return f"{env.catalog_database}.{dataset.from_.split('.')[1]}"


def input_format(dataset: InputDataset, specs: dict[str, JobSpec]) -> str:
    """An input's format, following ``from`` to the producing job's output."""
    if dataset.from_ is None:
        return dataset.format  # type: ignore[return-value]
    job, output = dataset.from_.split(".")
    return specs[job].output(output).format
