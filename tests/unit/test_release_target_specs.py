"""Lambda function and state machine specs: the examples load; every bad input is named by file,
field (or state) and what is allowed; our ASL check; definitions rendered per environment."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml

from dev import LOCAL_ENVIRONMENTS
from glue_cicd.asl import check_definition, placeholder_problems
from glue_cicd.function_spec import load_function, load_functions
from glue_cicd.functions import bake_problem
from glue_cicd.paths import FUNCTIONS_DIR, STATE_MACHINES_DIR
from glue_cicd.spec import SpecError, load_environments
from glue_cicd.state_machine_spec import load_state_machine, load_state_machines
from glue_cicd.state_machines import fill_sample, render_definition, sample_problem

NEXT_OR_END = "state '{}': give exactly one of 'Next' (the state after it) or 'End': true"
JOBS, FUNCTIONS = {"process_sales_data", "daily_sales_summary"}, {"validate_raw_sales"}
GOOD = {
    "StartAt": "Check",
    "States": {
        "Check": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Valid?"},
        "Valid?": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
                   "Default": "Reject"},
        "Reject": {"Type": "Fail", "Error": "Rejected"},
        "Done": {"Type": "Succeed"},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def environments():
    return load_environments(LOCAL_ENVIRONMENTS)


def test_the_examples_load(environments):
    functions, function_errors = load_functions(environments=environments)
    machines, machine_errors = load_state_machines(environments=environments)
    assert (function_errors, machine_errors) == ({}, {})
    assert set(functions) == {"validate_raw_sales"}
    assert set(machines) == {"ingest_sales"}
    assert machines["ingest_sales"].target == "states:ingest_sales"


def unreachable(start: str, *states: str) -> list[str]:
    return [f"state {s!r}: not reachable from StartAt {start!r}" for s in states]


def changed(definition: dict, path: str, value) -> dict:
    """``definition`` with the value at ``States.<state>.<field>`` (dots) set, or removed for None."""
    result = copy.deepcopy(definition)
    *parents, last = path.split(".")
    node = result
    for part in parents:
        node = node[part]
    if value is None:
        node.pop(last)
    else:
        node[last] = value
    return result


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (
            changed(GOOD, "StartAt", "Begin"),
            ["field 'StartAt': 'Begin' is not a state; states: Check, Valid?, Reject, Done"],
        ),
        (
            changed(GOOD, "States.Check.Next", "Vaild?"),
            [
                "state 'Check': field 'Next': no state 'Vaild?'; states: Check, Valid?, Reject, Done",
                *unreachable("Check", "Valid?", "Reject", "Done"),
            ],
        ),
        (
            changed(GOOD, "States.Check.Next", None),
            [NEXT_OR_END.format("Check"), *unreachable("Check", "Valid?", "Reject", "Done")],
        ),
        (
            changed(GOOD, "States.Done.Type", "Sucess"),
            [
                "state 'Done': field 'Type': 'Sucess' is not one of "
                "Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map"
            ],
        ),
        (
            changed(GOOD, "States.Check.Resource", None),
            ["state 'Check': field 'Resource': a Task needs the ARN of what it runs"],
        ),
        (
            changed(GOOD, "States.Valid?.Choices", []),
            [
                "state 'Valid?': field 'Choices': must be a non-empty list of rules, each with a 'Next'",
                "state 'Done': not reachable from StartAt 'Check'",
            ],
        ),
        (changed(GOOD, "States.Reject.Next", "Done"), ["state 'Reject': a Fail state takes no 'Next'"]),
        (
            changed(GOOD, "States.Check.Catch", [{"ErrorEquals": ["States.ALL"], "Next": "Cleanup"}]),
            ["state 'Check': field 'Catch[0].Next': no state 'Cleanup'; states: Check, Valid?, Reject, Done"],
        ),
        (
            changed(GOOD, "States.Check.Retry", [{"MaxAttempts": 2}]),
            ["state 'Check': field 'Retry[0].ErrorEquals': must be a list of error names"],
        ),
        (
            changed(GOOD, "States.Wait", {"Type": "Wait", "End": True}) | {"StartAt": "Wait"},
            [
                "state 'Wait': a Wait state takes exactly one of Seconds, Timestamp, SecondsPath, TimestampPath",
                *unreachable("Wait", "Check", "Valid?", "Reject", "Done"),
            ],
        ),
        (
            changed(
                GOOD,
                "States.Both",
                {
                    "Type": "Parallel",
                    "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass"}}}],
                    "Next": "Check",
                },
            )
            | {"StartAt": "Both"},
            ["state 'Both' branch 1: " + NEXT_OR_END.format("A")],
        ),
        (
            changed(GOOD, "Commment", "typo"),
            [
                "unknown top-level field Commment; "
                "allowed: Comment, QueryLanguage, StartAt, States, TimeoutSeconds, Version"
            ],
        ),
        ({"StartAt": "A", "States": {}}, ["field 'States': must be an object holding at least one state"]),
    ],
    ids=[
        "start",
        "dangling-next",
        "no-next-nor-end",
        "type",
        "task-resource",
        "choices",
        "fail-next",
        "catch",
        "retry",
        "wait",
        "parallel-branch",
        "top-level",
        "no-states",
    ],
)
def test_the_asl_check_names_the_state_and_field(definition, expected):
    assert check_definition(GOOD) == []
    assert check_definition(definition) == expected


def test_placeholders_must_name_what_the_repository_deploys():
    text = json.dumps({"a": "${glue_job:process_sales_data}", "b": "${lambda_function:validate_raw_sale}",
                       "c": "${data_bucket}", "d": "${glue_jobs:process_sales_data}", "e": "${region:x}"})  # fmt: skip
    assert placeholder_problems(text, JOBS, FUNCTIONS) == [
        "placeholder ${lambda_function:validate_raw_sale}: no function 'validate_raw_sale' in lambda_functions/; "
        "known: validate_raw_sales",
        "placeholder ${glue_jobs:process_sales_data}: unknown; allowed: ${data_bucket}, ${artifact_bucket}, "
        "${environment}, ${region}, ${account}, ${glue_job:<name>}, ${lambda_function:<name>}",
        "placeholder ${region:x}: unknown; allowed: ${data_bucket}, ${artifact_bucket}, ${environment}, ${region}, "
        "${account}, ${glue_job:<name>}, ${lambda_function:<name>}",
    ]


def test_a_definition_is_rendered_for_each_environment(environments):
    text = (STATE_MACHINES_DIR / "ingest_sales" / "definition.asl.json").read_text()
    for env in environments.environments.values():
        rendered = render_definition(text, env)
        states = json.loads(rendered)["States"]
        assert "${" not in rendered
        assert states["CleanSales"]["Parameters"]["JobName"] == f"process_sales_data-{env.name}"
        assert states["ValidateRawFile"]["Parameters"]["FunctionName"] == (
            f"arn:aws:lambda:us-east-1:123456789012:function:validate_raw_sales-{env.name}:live"
        )
        assert env.data_bucket in states["CleanSales"]["Parameters"]["Arguments"]["--output_path.$"]


@pytest.fixture
def machine_copy(tmp_path) -> Path:
    target = tmp_path / "ingest_sales"
    shutil.copytree(STATE_MACHINES_DIR / "ingest_sales", target)
    return target


def problems_of(load, folder: Path, environments) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load(folder, environments)
    return caught.value.problems


def edit_yaml(path: Path, **changes) -> None:
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda f: edit_yaml(f / "state_machine.yaml", type="EXPRES"),
            ["field 'type': Input should be 'STANDARD' or 'EXPRESS' (got 'EXPRES')"],
        ),
        (
            lambda f: edit_yaml(f / "state_machine.yaml", name="ingest"),
            ["field 'name': must equal the folder name 'ingest_sales' (got 'ingest')"],
        ),
        (
            lambda f: edit_yaml(f / "state_machine.yaml", traffic={"steps": [50, 20]}),
            [
                "field 'traffic.steps': each step must route more traffic than the one before (e.g. [10, 50]) "
                "(got [50, 20])"
            ],
        ),
        (
            lambda f: (f / "definition.asl.json").write_text('{"StartAt": '),
            ["ingest_sales/definition.asl.json: not valid JSON: Expecting value: line 1 column 13 (char 12)"],
        ),
        (
            lambda f: (f / "definition.asl.json").unlink(),
            ["ingest_sales/definition.asl.json: missing (the state machine's Amazon States Language definition)"],
        ),
        (
            lambda f: (f / "definition.asl.json").write_text(
                (f / "definition.asl.json").read_text().replace('"Next": "Cleaned"', '"Next": "Clean"')
            ),
            [
                "ingest_sales/definition.asl.json: state 'CleanSales': field 'Next': no state 'Clean'; states: "
                "ValidateRawFile, IsFileValid, RejectFile, CleanSales, Cleaned",
                "ingest_sales/definition.asl.json: state 'Cleaned': not reachable from StartAt 'ValidateRawFile'",
            ],
        ),
        (
            lambda f: (f / "samples" / "landed_file.json").write_text('{"event": {}}'),
            ["ingest_sales/samples/landed_file.json: expected an object with 'input' (and optionally 'expect')"],
        ),
        (
            lambda f: shutil.rmtree(f / "samples"),
            ["ingest_sales/samples/ holds no sample (<name>.json with an 'input'): staging is tried with them"],
        ),
    ],
    ids=["type", "name", "traffic", "json", "missing-definition", "dangling-next", "sample-shape", "no-samples"],
)
def test_a_bad_state_machine_is_named_by_file_and_field(machine_copy, environments, change, expected):
    change(machine_copy)
    assert problems_of(load_state_machine, machine_copy, environments) == expected


def test_a_state_machine_needs_a_role_in_every_environment(machine_copy, environments):
    staging = environments["staging"].model_copy(update={"states_role_arn": None})
    config = environments.model_copy(update={"environments": {**environments.environments, "staging": staging}})
    assert problems_of(load_state_machine, machine_copy, config) == [
        "the environments config gives no states_role_arn for staging "
        "(cloudformation.yaml's StatesExecutionRoleArn output)"
    ]


@pytest.fixture
def function_copy(tmp_path) -> Path:
    target = tmp_path / "validate_raw_sales"
    shutil.copytree(FUNCTIONS_DIR / "validate_raw_sales", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"runtime": "python3.9"},
            ["field 'runtime': Input should be 'python3.11', 'python3.12' or 'python3.13' (got 'python3.9')"],
        ),
        (
            {"handler": "handlers.handle"},
            ["field 'handler': no module handlers.py in validate_raw_sales/ (got 'handlers.handle')"],
        ),
        (
            {"requirements": ["requests>=2"]},
            [
                "field 'requirements.0': pin the package exactly as name==version, "
                "e.g. requests==2.32.3 (got 'requests>=2')"
            ],
        ),
        (
            {"environment": {"AWS_REGION": "eu-west-1"}},
            ["field 'environment.AWS_REGION': is reserved by AWS Lambda's runtime (got 'AWS_REGION')"],
        ),
        ({"timeout_seconds": 901}, ["field 'timeout_seconds': Input should be less than or equal to 900 (got 901)"]),
    ],
    ids=["runtime", "handler", "unpinned", "reserved-variable", "timeout"],
)
def test_a_bad_function_is_named_by_file_and_field(function_copy, environments, changes, expected):
    edit_yaml(function_copy / "function.yaml", **changes)
    assert problems_of(load_function, function_copy, environments) == expected


def test_sample_verdicts(environments):
    staging = environments["staging"]
    written = {"input": {"generation": "{generation}"}, "expect": {"g": "{generation}", "b": "{data_bucket}"}}
    sample = fill_sample(written, staging, "20261207T000000-abcdef")
    assert sample["expect"] == {"g": "20261207T000000-abcdef", "b": staging.data_bucket}
    ok = {"status": "SUCCEEDED", "version": "v2", "output": sample["expect"]}
    assert sample_problem("s", sample, ok, "v2") is None
    assert sample_problem("s", sample, {**ok, "version": "v1"}, "v2") == "sample s: ran v1, not the deployed v2"
    assert sample_problem("s", sample, {**ok, "output": {}}, "v2").startswith("sample s: output {}, expected")
    failed = {"status": "FAILED", "error": "RawFileRejected", "cause": "bad header", "output": None}
    assert sample_problem("s", sample, failed, "v2") == "sample s: FAILED: RawFileRejected: bad header"
    assert sample_problem("s", sample, {"status": "RUNNING"}, "v2") == "sample s: still running at the sample timeout"


def test_bake_verdicts():
    assert bake_problem(0, 0, 0.0) is None
    assert bake_problem(10, 0, 0.0) is None
    assert bake_problem(10, 1, 0.1) is None
    assert bake_problem(10, 2, 0.1) == "2 of 10 calls to the new version failed (20.0%, allowed 10.0%)"
