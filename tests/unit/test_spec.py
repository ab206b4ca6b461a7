"""Job specs and the environments config: good input loads, each bad input gets one clear SpecError."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from dev import LOCAL_ENVIRONMENTS
from glue_cicd.paths import EXPECTATIONS_DIR, JOBS_DIR, PROJECT_DIR
from glue_cicd.spec import DistributedChecks, Environment, SpecError, load_environments, load_job, load_jobs

# The pipelines' environments config without GLUE_CICD_ENVIRONMENTS_FILE (strict), and the emulator's
# relaxed copy (the tests' own, see tests/conftest.py).
DEFAULT_ENVIRONMENTS = PROJECT_DIR / "infrastructure" / "environments.yaml"

ENVIRONMENTS = {
    "environments": {
        env: {
            "aws_conn_id": "aws_default",
            "region": "us-east-1",
            "glue_role_arn": "arn:aws:iam::123456789012:role/glue",
            "artifact_bucket": "artifacts-123",
            "data_bucket": f"data-{env}-123",
            "catalog_database": f"db_{env}",
            **({"shadow_glue_role_arn": "arn:aws:iam::123456789012:role/shadow"} if env == "prod" else {}),
        }
        for env in ("staging", "prod")
    },
    "ledger_table": "ledger",
    "alerts_topic_arn": "arn:aws:sns:us-east-1:123456789012:alerts",
}
RAW = {"name": "raw_sales", "argument": "input_path", "format": "csv", "path": "s3://{data_bucket}/raw/sales/"}
CLEAN = {
    "name": "clean_sales",
    "argument": "output_path",
    "format": "parquet",
    "path": "s3://{data_bucket}/curated/sales/",
    "suite": "clean_sales",
    "key": ["sale_id"],
}
READS = {"name": "upstream", "argument": "input_path"}  # an input read from another job's output
SUITES = ("clean_sales", "daily_sales")


def job(name: str = "sales", **changes: Any) -> dict[str, Any]:
    """A valid job.yaml mapping for job ``name``, with top-level ``changes`` (``None`` drops a key)."""
    data = {
        "name": name,
        "description": "Cleans sales.",
        "owners": ["data@example.com"],
        "glue_version": "5.0",
        "worker_type": "G.1X",
        "number_of_workers": 2,
        "default_arguments": {"--summary_path": "s3://{data_bucket}/summaries/{job}/"},
        "datasets": {"inputs": [RAW], "outputs": [CLEAN]},
    }
    data = copy.deepcopy({**data, **changes})
    outputs = data["datasets"].get("outputs") if isinstance(data.get("datasets"), dict) else None
    for output in outputs if isinstance(outputs, list) and name != "sales" else []:
        if isinstance(output, dict) and output.get("name") == "clean_sales":
            output["name"] = f"{name}_sales"  # outputs are catalog tables: their names are unique across jobs
    return {key: value for key, value in data.items() if value is not None}


def datasets(inputs: list[dict] | None = None, outputs: list[dict] | None = None) -> dict[str, list[dict]]:
    """A job's ``datasets`` mapping; the default input and output unless given."""
    return {"inputs": [RAW] if inputs is None else inputs, "outputs": [CLEAN] if outputs is None else outputs}


def write_job(jobs_dir: Path, folder: str, content: dict | str, *, script: bool = True) -> Path:
    """``jobs_dir/<folder>/job.yaml`` (a mapping is dumped as YAML) and, unless told not to, job.py."""
    path = jobs_dir / folder / "job.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
    if script:
        (path.parent / "job.py").write_text("")
    return path


@pytest.fixture
def expectations(tmp_path: Path) -> Path:
    """An expectations folder holding the suites the test jobs name."""
    folder = tmp_path / "expectations"
    folder.mkdir()
    for suite in SUITES:
        (folder / f"{suite}.json").write_text("{}")
    return folder


@pytest.fixture
def environments(tmp_path: Path):
    """The test environments config, loaded from a file like infrastructure/environments.yaml."""
    path = tmp_path / "environments.yaml"
    path.write_text(yaml.safe_dump(ENVIRONMENTS))
    return load_environments(path)


@pytest.fixture
def jobs_dir(tmp_path: Path) -> Path:
    return tmp_path / "glue_jobs"


def test_good_spec_loads(jobs_dir, environments, expectations):
    per_environment = {"staging": "s3://{data_bucket}/staging-curated/", "prod": "s3://{data_bucket}/{environment}/"}
    text = yaml.safe_dump(job(glue_version=5.0, datasets=datasets(outputs=[{**CLEAN, "path": per_environment}])))
    assert "glue_version: 5.0\n" in text  # unquoted: YAML reads a float
    write_job(jobs_dir, "sales", text)

    spec = load_job(jobs_dir / "sales", environments, expectations)

    staging, prod = environments["staging"], environments["prod"]
    assert spec.glue_version == "5.0"
    assert spec.folder == jobs_dir / "sales"
    assert spec.timeout_minutes == 60
    assert spec.datasets.inputs[0].path_in(staging) == "s3://data-staging-123/raw/sales/"
    assert spec.output("clean_sales").path_in(staging) == "s3://data-staging-123/staging-curated/"
    assert spec.output("clean_sales").path_in(prod) == "s3://data-prod-123/prod/"
    assert staging.glue_job_name("sales") == "sales-staging"
    assert spec.default_arguments == {"--summary_path": "s3://{data_bucket}/summaries/{job}/"}


JOB_FIELDS = (
    "name, description, owners, glue_version, worker_type, number_of_workers, timeout_minutes, max_retries, "
    "max_concurrent_runs, default_arguments, extra_python_modules, datasets, run, tags"
)
ARGUMENT_PLACEHOLDERS = "{data_bucket}, {artifact_bucket}, {environment}, {job}"
# (id, job.yaml content, the error's problems). Environments are checked in file order: prod, then staging.
BAD_JOBS = [
    (
        "output without a key",
        job(datasets=datasets(outputs=[{k: v for k, v in CLEAN.items() if k != "key"}])),
        ["field 'datasets.outputs.0.key': required field is missing"],
    ),
    (
        "unknown diff setting",
        job(datasets=datasets(outputs=[{**CLEAN, "diff": {"max_change": 0.1}}])),
        [
            "field 'datasets.outputs.0.diff.max_change': unknown field; did you mean 'max_changed_share'? "
            "allowed: max_changed_share, max_removed_share, expected_changes, float_precision"
        ],
    ),
    (
        "diff threshold above 1",
        job(datasets=datasets(outputs=[{**CLEAN, "diff": {"max_removed_share": 1.5}}])),
        ["field 'datasets.outputs.0.diff.max_removed_share': Input should be less than or equal to 1 (got 1.5)"],
    ),
    (
        "key column named twice",
        job(datasets=datasets(outputs=[{**CLEAN, "key": ["sale_id", "sale_id"]}])),
        ["field 'datasets.outputs.0': 'key' names sale_id more than once"],
    ),
    (
        "key that is not a column name",
        job(datasets=datasets(outputs=[{**CLEAN, "key": ["sale id"]}])),
        ["field 'datasets.outputs.0.key.0': must be a column name: letters, digits and _ (got 'sale id')"],
    ),
    (
        "yaml syntax",
        "name: sales\nowners: [a\nworker_type: G.1X\n",
        [
            "not valid YAML at line 3, column 12: did not find expected ',' or ']'",
        ],
    ),
    ("empty file", "", ["the file is empty; expected a mapping of fields"]),
    ("top-level list", "- name: sales\n", ["expected a mapping of fields at the top level, got a list"]),
    ("missing field", job(description=None), ["field 'description': required field is missing"]),
    (
        "mistyped field",
        job(number_of_workers="two"),
        [
            "field 'number_of_workers': Input should be a valid integer, unable to parse string as an integer "
            "(got 'two')",
        ],
    ),
    ("string for a list", job(owners="me"), ["field 'owners': Input should be a valid list (got 'me')"]),
    (
        "unknown worker type",
        job(worker_type="G.3X"),
        [
            "field 'worker_type': Input should be 'G.1X', 'G.2X', 'G.4X' or 'G.8X' (got 'G.3X')",
        ],
    ),
    ("old glue version", job(glue_version=3.0), ["field 'glue_version': Input should be '4.0' or '5.0' (got '3.0')"]),
    (
        "future glue version",
        job(glue_version="6.0"),
        [
            "field 'glue_version': Input should be '4.0' or '5.0' (got '6.0')",
        ],
    ),
    (
        "negative workers",
        job(number_of_workers=-1),
        [
            "field 'number_of_workers': Input should be greater than or equal to 2 (got -1)",
        ],
    ),
    (
        "too few workers",
        job(number_of_workers=1),
        [
            "field 'number_of_workers': Input should be greater than or equal to 2 (got 1)",
        ],
    ),
    (
        "timeout 0",
        job(timeout_minutes=0),
        [
            "field 'timeout_minutes': Input should be greater than or equal to 1 (got 0)",
        ],
    ),
    (
        "unknown suite",
        job(datasets=datasets(outputs=[{**CLEAN, "suite": "clean_sale"}])),
        [
            "field 'datasets.outputs.0.suite': no such suite in expectations/; known suites: clean_sales, daily_sales "
            "(got 'clean_sale')",
        ],
    ),
    (
        "duplicate dataset names",
        job(datasets=datasets(inputs=[{**RAW, "name": "clean_sales"}])),
        [
            "field 'datasets': each dataset needs its own name; repeated: clean_sales",
        ],
    ),
    (
        "duplicate dataset arguments",
        job(datasets=datasets(inputs=[{**RAW, "argument": "output_path"}])),
        [
            "field 'datasets': each dataset needs its own argument; repeated: output_path",
        ],
    ),
    (
        "duplicate default argument",
        "default_arguments:\n  --summary_path: a\n  --summary_path: b\n",
        [
            "not valid YAML at line 3, column 3: repeated key '--summary_path'",
        ],
    ),
    (
        "dataset argument also a default argument",
        job(default_arguments={"--output_path": "s3://x/y/"}),
        [
            "field 'datasets': dataset argument --output_path is also set in default_arguments",
        ],
    ),
    (
        "name not the folder",
        job(name="sales_v2"),
        [
            "field 'name': must equal the folder name 'sales' (got 'sales_v2')",
        ],
    ),
    (
        "output outside the data bucket",
        job(datasets=datasets(outputs=[{**CLEAN, "path": "s3://elsewhere/x/"}])),
        [
            "field 'datasets.outputs.0.path': prod output 's3://elsewhere/x/' is outside the environment's data bucket "
            "'data-prod-123'; use s3://{data_bucket}/...",
            "field 'datasets.outputs.0.path': staging output 's3://elsewhere/x/' is outside the environment's data "
            "bucket 'data-staging-123'; use s3://{data_bucket}/...",
        ],
    ),
    (
        "input not in S3",
        job(datasets=datasets(inputs=[{**RAW, "path": "/data/raw/"}])),
        [
            "field 'datasets.inputs.0.path': must be an s3://bucket/prefix URI in prod (got '/data/raw/')",
            "field 'datasets.inputs.0.path': must be an s3://bucket/prefix URI in staging (got '/data/raw/')",
        ],
    ),
    (
        "unknown top-level key",
        {**job(), "worker_typ": "G.1X"},
        [
            f"field 'worker_typ': unknown field; did you mean 'worker_type'? allowed: {JOB_FIELDS}",
        ],
    ),
    (
        "unknown key in a dataset",
        job(datasets=datasets(outputs=[{**CLEAN, "partitions": ["day"]}])),
        [
            "field 'datasets.outputs.0.partitions': unknown field; did you mean 'partition_by'? "
            "allowed: name, argument, format, path, description, suite, partition_by, key, diff",
        ],
    ),
    (
        "reserved argument --JOB_NAME",
        job(default_arguments={"--JOB_NAME": "x"}),
        [
            "field 'default_arguments.--JOB_NAME': this argument is reserved: set by Glue (got '--JOB_NAME')",
        ],
    ),
    (
        "reserved argument --extra-py-files",
        job(default_arguments={"--extra-py-files": "s3://x/y.zip"}),
        [
            "field 'default_arguments.--extra-py-files': this argument is reserved: the pipeline ships glue_runtime "
            "and the job's modules as libs.zip (got '--extra-py-files')",
        ],
    ),
    (
        "reserved dataset argument",
        job(datasets=datasets(inputs=[{**RAW, "argument": "JOB_NAME"}])),
        [
            "field 'datasets.inputs.0.argument': --JOB_NAME is reserved: set by Glue (got 'JOB_NAME')",
        ],
    ),
    (
        "unknown job bookmark option",
        job(default_arguments={"--job-bookmark-option": "enable"}),
        [
            "field 'default_arguments': --job-bookmark-option 'enable' is not one of job-bookmark-enable, "
            "job-bookmark-disable, job-bookmark-pause (got {'--job-bookmark-option': 'enable'})",
        ],
    ),
    (
        "argument without --",
        job(default_arguments={"summary_path": "x"}),
        [
            "field 'default_arguments.summary_path': argument names start with '--' (got 'summary_path')",
        ],
    ),
    (
        "argument value read as a boolean",
        job(default_arguments={"--enable-metrics": True}),
        [
            "field 'default_arguments.--enable-metrics': Input should be a valid string; quote the value in YAML "
            "(got True)",
        ],
    ),
    (
        "unpinned module",
        job(extra_python_modules=["pyarrow==17.0.0", "requests"]),
        [
            "field 'extra_python_modules.1': pin the module exactly as name==version, e.g. pyarrow==17.0.0 "
            "(got 'requests')",
        ],
    ),
    (
        "input with path and from",
        job(datasets=datasets(inputs=[{**RAW, "from": "other.clean_sales"}])),
        [
            "field 'datasets.inputs.0': give 'path' or 'from', not both",
        ],
    ),
    (
        "input with neither",
        job(datasets=datasets(inputs=[{"name": "raw_sales", "argument": "input_path"}])),
        [
            "field 'datasets.inputs.0': give 'path' (and 'format') or 'from' (another job's output, <job>.<output>)",
        ],
    ),
    (
        "input from with a format",
        job(datasets=datasets(inputs=[{**READS, "from": "a.b", "format": "csv"}])),
        [
            "field 'datasets.inputs.0': leave 'format' out with 'from': the producing job's output sets it",
        ],
    ),
    (
        "input from not <job>.<output>",
        job(datasets=datasets(inputs=[{**READS, "from": "other"}])),
        [
            "field 'datasets.inputs.0.from': must be <job>.<output>, e.g. process_sales_data.clean_sales (got 'other')",
        ],
    ),
    (
        "no outputs",
        job(datasets=datasets(outputs=[])),
        [
            "field 'datasets.outputs': List should have at least 1 item after validation, not 0 (got [])",
        ],
    ),
    (
        "bad placeholder in an argument",
        job(default_arguments={"--summary_path": "s3://{bucket}/summaries/"}),
        [
            f"field 'default_arguments.--summary_path': unknown placeholder {{bucket}}; allowed placeholders: "
            f"{ARGUMENT_PLACEHOLDERS} (got 's3://{{bucket}}/summaries/')",
        ],
    ),
    (
        "unbalanced brace in an argument",
        job(default_arguments={"--summary_path": "s3://{data_bucket/x/"}),
        [
            f"field 'default_arguments.--summary_path': unbalanced {{ or }}; allowed placeholders: "
            f"{ARGUMENT_PLACEHOLDERS}; write {{{{ or }}}} for a literal brace (got 's3://{{data_bucket/x/')",
        ],
    ),
    (
        "bad placeholder in a path",
        job(datasets=datasets(outputs=[{**CLEAN, "path": "s3://{data_bucket}/{job}/"}])),
        [
            "field 'datasets.outputs.0.path': unknown placeholder {job}; allowed placeholders: {data_bucket}, "
            "{environment} (got 's3://{data_bucket}/{job}/')",
        ],
    ),
    (
        "path mapping missing an environment",
        job(datasets=datasets(outputs=[{**CLEAN, "path": {"staging": "s3://a/b/"}}])),
        [
            "field 'datasets.outputs.0.path': give a path for every environment (staging, prod); missing prod "
            "(got {'staging': 's3://a/b/'})",
        ],
    ),
    (
        "path mapping with an unknown environment",
        job(datasets=datasets(outputs=[{**CLEAN, "path": {"staging": "s3://a/b/", "production": "s3://a/b/"}}])),
        [
            "field 'datasets.outputs.0.path.production': Input should be 'staging' or 'prod' (got 'production')",
        ],
    ),
    (
        "path neither text nor mapping",
        job(datasets=datasets(outputs=[{**CLEAN, "path": ["s3://a/b/"]}])),
        [
            "field 'datasets.outputs.0.path': must be an s3:// URI string or a mapping with staging and prod "
            "(got ['s3://a/b/'])",
        ],
    ),
    (
        "datasets as a list",
        job(datasets=[CLEAN]),
        ["field 'datasets': Input should be a mapping of fields (got a list)"],
    ),
]


@pytest.mark.parametrize(("content", "expected"), [case[1:] for case in BAD_JOBS], ids=[case[0] for case in BAD_JOBS])
def test_bad_job_spec(jobs_dir, environments, expectations, content, expected):
    path = write_job(jobs_dir, "sales", content)

    with pytest.raises(SpecError) as caught:
        load_job(path.parent, environments, expectations)

    assert caught.value.path == path
    assert caught.value.problems == expected
    assert str(caught.value) == f"{path}: " + "; ".join(expected)


def test_all_problems_of_a_file_in_one_error(jobs_dir, environments, expectations):
    path = write_job(jobs_dir, "sales", job(worker_type="G.3X", number_of_workers=0, owner="me"))

    with pytest.raises(SpecError) as caught:
        load_job(path.parent, environments, expectations)

    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        "field 'worker_type'",
        "field 'number_of_workers'",
        "field 'owner'",
    ]


def test_missing_job_script(jobs_dir, environments, expectations):
    path = write_job(jobs_dir, "sales", job(), script=False)

    with pytest.raises(SpecError, match=r"the job's entry script sales/job\.py is missing"):
        load_job(path.parent, environments, expectations)


def test_output_shared_by_every_environment(jobs_dir, tmp_path, expectations):
    config = copy.deepcopy(ENVIRONMENTS)
    for env in config["environments"].values():
        env["data_bucket"] = "data-123"
    (tmp_path / "shared.yaml").write_text(yaml.safe_dump(config))
    path = write_job(jobs_dir, "sales", job())

    with pytest.raises(SpecError) as caught:
        load_job(path.parent, load_environments(tmp_path / "shared.yaml"), expectations)

    assert caught.value.problems == [
        "field 'datasets.outputs.0.path': every environment would write to 's3://data-123/curated/sales/'; "
        "use {data_bucket} or {environment} in the path"
    ]


def test_one_bad_job_hides_no_other(jobs_dir, environments, expectations):
    write_job(jobs_dir, "sales", job())
    bad = write_job(jobs_dir, "c_broken", job("c_broken", worker_type="G.3X"))
    # b_daily reads the broken job's output, and a_report reads b_daily's: both are reported.
    b_daily = write_job(
        jobs_dir, "b_daily", job("b_daily", datasets=datasets([{**READS, "from": "c_broken.clean_sales"}]))
    )
    a_report = write_job(
        jobs_dir, "a_report", job("a_report", datasets=datasets([{**READS, "from": "b_daily.clean_sales"}]))
    )

    specs, errors = load_jobs(jobs_dir, environments, expectations)

    assert list(specs) == ["sales"]
    assert set(errors) == {bad, b_daily, a_report}
    assert "field 'worker_type'" in str(errors[bad])
    assert str(errors[b_daily]) == (
        f"{b_daily}: field 'datasets.inputs.0.from': job 'c_broken' has an invalid spec (see its error) "
        "(got 'c_broken.clean_sales')"
    )
    assert "job 'b_daily' has an invalid spec" in str(errors[a_report])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("nobody.clean_sales", "unknown job 'nobody'; known outputs: sales.clean_sales (got 'nobody.clean_sales')"),
        (
            "sales.nothing",
            "job 'sales' has no output 'nothing'; known outputs: sales.clean_sales (got 'sales.nothing')",
        ),
        ("daily.clean_sales", "a job cannot read its own output (got 'daily.clean_sales')"),
    ],
)
def test_input_from_unknown_output(jobs_dir, environments, expectations, source, expected):
    write_job(jobs_dir, "sales", job())
    daily = write_job(
        jobs_dir, "daily", job("daily", datasets=datasets([{"name": "sales", "argument": "sales", "from": source}]))
    )

    specs, errors = load_jobs(jobs_dir, environments, expectations)

    assert list(specs) == ["sales"]
    assert str(errors[daily]) == f"{daily}: field 'datasets.inputs.0.from': {expected}"


def environments_with(**changes: Any) -> dict[str, Any]:
    """The test environments config, ``changes`` given as dotted paths (``None`` drops a key)."""
    config = copy.deepcopy(ENVIRONMENTS)
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        holder = config
        for parent in parents:
            holder = holder[parent]
        if value is None:
            del holder[key]
        else:
            holder[key] = value
    return config


BAD_ENVIRONMENTS = [
    (
        "missing prod",
        environments_with(**{"environments.prod": None}),
        [
            "field 'environments': define every environment (staging, prod); missing prod "
            "(got a mapping with keys staging)"
        ],
    ),
    (
        "unknown environment",
        environments_with(**{"environments.dev": ENVIRONMENTS["environments"]["prod"]}),
        ["field 'environments.dev': Input should be 'staging' or 'prod' (got 'dev')"],
    ),
    (
        "bad role ARN",
        environments_with(**{"environments.prod.glue_role_arn": "glue-role"}),
        [
            "field 'environments.prod.glue_role_arn': must be an IAM role ARN: "
            "arn:aws:iam::<12-digit account>:role/<name> (got 'glue-role')"
        ],
    ),
    (
        "bad bucket name",
        environments_with(**{"environments.staging.data_bucket": "Data_Bucket"}),
        [
            "field 'environments.staging.data_bucket': must be an S3 bucket name (3-63 of a-z 0-9 . -) "
            "(got 'Data_Bucket')"
        ],
    ),
    (
        "unknown key in an environment",
        environments_with(**{"environments.staging.regoin": "us-east-1"}),
        [
            "field 'environments.staging.regoin': unknown field; did you mean 'region'? allowed: name, aws_conn_id, "
            "region, glue_role_arn, artifact_bucket, data_bucket, job_name_pattern, approvers, approval_timeout_hours, "
            "require_recorded_approval, glue_poll_seconds, catalog_database, shadow_glue_role_arn, "
            "checks_glue_role_arn, retention, lambda_role_arn, function_name_pattern, bake_poll_seconds, "
            "bake_minutes_override, states_role_arn, state_machine_name_pattern"
        ],
    ),
    (
        "a checks job worker type Glue does not have",
        environments_with(distributed_checks={"worker_type": "G.3X", "min_rows": 0}),
        [
            "field 'distributed_checks.min_rows': Input should be greater than or equal to 1 (got 0)",
            "field 'distributed_checks.worker_type': Input should be 'G.1X', 'G.2X', 'G.4X' or 'G.8X' (got 'G.3X')",
        ],
    ),
    (
        "unknown top-level key",
        environments_with(ledger="x"),
        [
            "field 'ledger': unknown field; did you mean 'ledger_table'? "
            "allowed: environments, ledger_table, alerts_topic_arn, revalidation_schedule, "
            "run_dags_paused_upon_creation, approval_notifications, distributed_checks"
        ],
    ),
    (
        "job name pattern without {job}",
        environments_with(**{"environments.prod.job_name_pattern": "{environment}-job"}),
        ["field 'environments.prod.job_name_pattern': must contain {job} (got '{environment}-job')"],
    ),
    (
        "bad timeout",
        environments_with(**{"environments.prod.approval_timeout_hours": 0}),
        ["field 'environments.prod.approval_timeout_hours': Input should be greater than 0 (got 0)"],
    ),
    (
        "Glue poll interval too short",
        environments_with(**{"environments.prod.glue_poll_seconds": 0.1}),
        ["field 'environments.prod.glue_poll_seconds': Input should be greater than or equal to 0.5 (got 0.1)"],
    ),
]


@pytest.mark.parametrize(
    ("config", "expected"), [case[1:] for case in BAD_ENVIRONMENTS], ids=[case[0] for case in BAD_ENVIRONMENTS]
)
def test_bad_environments(tmp_path, config, expected):
    path = tmp_path / "environments.yaml"
    path.write_text(yaml.safe_dump(config))

    with pytest.raises(SpecError) as caught:
        load_environments(path)

    assert caught.value.problems == expected
    assert str(caught.value) == f"{path}: " + "; ".join(expected)


@pytest.mark.skipif(
    not all((EXPECTATIONS_DIR / f"{suite}.json").is_file() for suite in SUITES),
    reason="the real jobs' suites (expectations/clean_sales.json, daily_sales.json) are not written yet",
)
@pytest.mark.parametrize("environments_file", [DEFAULT_ENVIRONMENTS, LOCAL_ENVIRONMENTS], ids=["default", "local"])
def test_real_jobs_load(environments_file):
    specs, errors = load_jobs(JOBS_DIR, load_environments(environments_file))

    assert errors == {}
    assert {"process_sales_data", "daily_sales_summary"} <= set(specs)


def test_the_default_environments_are_strict_and_the_emulators_differ_only_in_relaxed_settings():
    default, local = load_environments(DEFAULT_ENVIRONMENTS), load_environments(LOCAL_ENVIRONMENTS)
    strict = Environment.model_fields
    for env in default.environments.values():
        assert env.require_recorded_approval is True, env.name
        assert env.glue_poll_seconds == strict["glue_poll_seconds"].default, env.name
        assert env.bake_minutes_override is None, env.name  # bakes as long as the functions declare
    assert local["prod"].require_recorded_approval is False
    assert default.run_dags_paused_upon_creation is False  # scheduled runs start once deployed
    relaxed = {"require_recorded_approval", "glue_poll_seconds", "bake_poll_seconds", "bake_minutes_override"}
    top = {"environments", "run_dags_paused_upon_creation"}
    assert local.model_dump(exclude=top) == default.model_dump(exclude=top)
    for name, env in default.environments.items():
        assert local[name].model_dump(exclude=relaxed) == env.model_dump(exclude=relaxed), name


def test_an_output_name_is_one_catalog_table_across_jobs(jobs_dir, environments, expectations):
    write_job(jobs_dir, "sales", job())
    copy_path = write_job(jobs_dir, "sales_copy", job("sales_copy", datasets=datasets(outputs=[CLEAN])))
    yaml_text = copy_path.read_text().replace("sales_copy_sales", "clean_sales")
    copy_path.write_text(yaml_text)

    specs, errors = load_jobs(jobs_dir, environments, expectations)

    assert list(specs) == ["sales"]
    assert errors[copy_path].problems == [
        "field 'datasets.outputs': output names are catalog table names; taken: clean_sales (already sales's)"
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"environments.prod.shadow_glue_role_arn": None},
            "prod needs shadow_glue_role_arn: the role shadow runs of unapproved code run under",
        ),
        ({"environments.prod.catalog_database": "db_staging"}, "each environment needs its own catalog_database"),
    ],
    ids=["prod without a shadow role", "one catalog for both"],
)
def test_environments_publish_through_their_own_catalog(tmp_path, changes, expected):
    path = tmp_path / "environments.yaml"
    path.write_text(yaml.safe_dump(environments_with(**changes)))
    with pytest.raises(SpecError, match=expected):
        load_environments(path)


READ_UPSTREAM = {"name": "clean", "argument": "input_table", "from": "sales.clean_sales"}
SPEND = {**CLEAN, "name": "spend", "suite": "daily_sales", "path": "s3://{data_bucket}/marts/spend/"}


@pytest.mark.parametrize(
    ("run", "problem"),
    [
        (
            {"schedule": "0 25 * * *"},
            "field 'run.schedule': must be a cron expression (minute hour day month weekday) "
            "or one of @hourly, @daily, @weekly, @monthly, @yearly (got '0 25 * * *')",
        ),
        (
            {"date_argument": "day"},
            "field 'run': date_argument needs a schedule: each run's date is the start of its schedule's interval",
        ),
        (
            {"schedule": "@daily", "date_argument": "--day"},
            "field 'run.date_argument': must be letters, digits and _ without the leading -- (got '--day')",
        ),
        ({"schedule": "@daily", "date_argument": "JOB_NAME"}, "field 'run': --JOB_NAME is reserved: set by Glue"),
        (
            {"schedule": "@daily", "date_argument": "input_table"},
            "run.date_argument --input_table is already a dataset argument or in default_arguments",
        ),
        (
            {"schedule": "@daily", "date_argument": "day"},
            "run.after_upstream: a job with a date_argument runs on its "
            "schedule only (a run started by an upstream publish has no date interval); set after_upstream: false",
        ),
        ({"every": "day"}, "field 'run.every': unknown field; allowed: schedule, after_upstream, date_argument"),
    ],
    ids=["bad cron", "date without schedule", "dashes", "reserved", "taken", "date after upstream", "unknown key"],
)
def test_bad_run_settings(jobs_dir, environments, expectations, run, problem):
    write_job(jobs_dir, "sales", job())
    path = write_job(jobs_dir, "spend", job("spend", run=run, datasets=datasets([READ_UPSTREAM], [SPEND])))

    specs, errors = load_jobs(jobs_dir, environments, expectations)

    assert "spend" not in specs
    [reported] = errors[path].problems
    assert problem in reported


def test_run_settings(jobs_dir, environments, expectations):
    write_job(jobs_dir, "sales", job(run={"schedule": "0 2 * * *"}))
    write_job(jobs_dir, "spend", job("spend", datasets=datasets([READ_UPSTREAM], [SPEND])))
    dated = {"schedule": "@daily", "after_upstream": False, "date_argument": "day"}
    write_job(
        jobs_dir,
        "daily",
        job(
            "daily",
            run=dated,
            datasets=datasets([READ_UPSTREAM], [{**SPEND, "name": "d", "path": "s3://{data_bucket}/marts/d/"}]),
        ),
    )

    specs, errors = load_jobs(jobs_dir, environments, expectations)

    assert not errors
    assert specs["sales"].run.schedule == "0 2 * * *"
    assert specs["sales"].upstream == []
    assert specs["spend"].run.schedule is None
    assert specs["spend"].upstream == ["sales.clean_sales"]
    assert specs["daily"].upstream == []
    assert specs["daily"].run.date_argument == "day"


@pytest.mark.parametrize(
    ("rows", "size", "distributed"),
    [
        (4_999_999, 10, False),
        (5_000_000, 10, True),
        (None, 1024**3 - 1, False),
        (None, 1024**3, True),
        (1, 2**40, True),
    ],
)
def test_a_dataset_goes_to_the_checks_job_at_either_threshold(rows, size, distributed):
    assert DistributedChecks().distributed(rows, size) is distributed
    assert DistributedChecks(min_rows=None, min_bytes=None).distributed(rows, size) is False
