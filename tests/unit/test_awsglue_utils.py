"""``awsglue.utils.getResolvedOptions`` against AWS's documented contract (local_runtime/awsglue)."""

from __future__ import annotations

import pytest
from awsglue.utils import GlueArgumentError, getResolvedOptions

SCRIPT = "/tmp/script.py"


def test_both_forms_resolve_and_unknown_arguments_are_ignored():
    argv = [SCRIPT, "--JOB_NAME", "sales", "--day=2025-01-31", "--other", "x", "leftover", "-v"]
    args = getResolvedOptions(argv, ["JOB_NAME", "day"])
    assert args["JOB_NAME"] == "sales"
    assert args["day"] == "2025-01-31"
    assert "other" not in args


def test_names_are_not_abbreviated():
    """``--day`` does not stand for ``--day_partition`` (argparse would allow it by default)."""
    with pytest.raises(GlueArgumentError, match="--day_partition"):
        getResolvedOptions([SCRIPT, "--day", "1"], ["day_partition"])


def test_every_asked_name_is_required_and_the_error_lists_them():
    with pytest.raises(GlueArgumentError) as missing:
        getResolvedOptions([SCRIPT, "--JOB_NAME", "sales"], ["JOB_NAME", "input", "output"])
    assert str(missing.value) == "the following arguments are required: --input, --output"


def test_hyphens_become_underscores():
    args = getResolvedOptions([SCRIPT, "--day-partition", "p0"], ["day-partition"])
    assert args["day_partition"] == "p0"


def test_glue_run_arguments_are_always_resolved():
    args = getResolvedOptions([SCRIPT, "--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--JOB_NAME", "sales"], [])
    assert args == {
        "JOB_ID": "j_1",
        "JOB_RUN_ID": "jr_1",
        "job_bookmark_option": "job-bookmark-disable",
        "job_bookmark_from": None,
        "job_bookmark_to": None,
        "TempDir": None,
    }
    enabled = getResolvedOptions([SCRIPT, "--job-bookmark-option", "job-bookmark-enable"], [])
    assert enabled["job_bookmark_option"] == "job-bookmark-enable"


def test_asking_for_a_glue_argument_makes_it_required():
    assert getResolvedOptions([SCRIPT, "--TempDir", "/tmp/t"], ["TempDir"])["TempDir"] == "/tmp/t"
    assert getResolvedOptions([SCRIPT, "--job-bookmark-option", "job-bookmark-pause"], ["job_bookmark_option"]) == {
        "JOB_ID": None,
        "JOB_RUN_ID": None,
        "job_bookmark_option": "job-bookmark-pause",
        "job_bookmark_from": None,
        "job_bookmark_to": None,
        "TempDir": None,
    }
    with pytest.raises(GlueArgumentError, match="required: --JOB_RUN_ID"):
        getResolvedOptions([SCRIPT], ["JOB_RUN_ID"])


def test_an_unknown_bookmark_option_is_refused():
    with pytest.raises(GlueArgumentError, match="invalid choice: 'job-bookmark-on'"):
        getResolvedOptions([SCRIPT, "--job-bookmark-option", "job-bookmark-on"], [])


@pytest.mark.parametrize("name", ["conf", "debug", "mode"])
def test_names_internal_to_glue_are_refused(name):
    with pytest.raises(GlueArgumentError, match=f"--{name} is internal to AWS Glue"):
        getResolvedOptions([SCRIPT, f"--{name}", "x"], [name])


def test_names_are_asked_without_hyphens():
    with pytest.raises(GlueArgumentError, match="ask for 'input', without the leading hyphens"):
        getResolvedOptions([SCRIPT, "--input", "x"], ["--input"])


def test_a_repeated_argument_keeps_its_last_value_and_a_repeated_name_is_asked_once():
    args = getResolvedOptions([SCRIPT, "--JOB_NAME", "first", "--JOB_NAME=second"], ["JOB_NAME", "JOB_NAME"])
    assert args["JOB_NAME"] == "second"


def test_values_starting_with_a_hyphen():
    assert getResolvedOptions([SCRIPT, "--delta=-abc"], ["delta"])["delta"] == "-abc"
    assert getResolvedOptions([SCRIPT, "--delta", "-5"], ["delta"])["delta"] == "-5"
    with pytest.raises(GlueArgumentError, match="argument --delta: expected one argument"):
        getResolvedOptions([SCRIPT, "--delta", "-abc"], ["delta"])


def test_empty_values_and_a_missing_value():
    assert getResolvedOptions([SCRIPT, "--a", "", "--b="], ["a", "b"]) == {
        "a": "",
        "b": "",
        "JOB_ID": None,
        "JOB_RUN_ID": None,
        "job_bookmark_option": "job-bookmark-disable",
        "job_bookmark_from": None,
        "job_bookmark_to": None,
        "TempDir": None,
    }
    with pytest.raises(GlueArgumentError, match="argument --a: expected one argument"):
        getResolvedOptions([SCRIPT, "--a"], ["a"])
