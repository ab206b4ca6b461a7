"""Job bookmarks of the local ``awsglue`` (``_bookmarks`` and ``Job``), without Spark."""

from __future__ import annotations

import json
import sys

import pytest
from awsglue import _bookmarks
from awsglue._unsupported import NotSupportedLocally
from awsglue.job import Job
from awsglue.utils import GlueArgumentError

A, B, C = "s3://bucket/in/a.csv", "s3://bucket/in/b.csv", "s3://bucket/in/c.csv"


class FakeGlueContext:
    """What ``Job`` is given; these tests never start Spark."""


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch):
    monkeypatch.delenv(_bookmarks.FILE_ENV, raising=False)
    _bookmarks.reset()
    yield
    _bookmarks.reset()


def run(objects, option="job-bookmark-enable", ctx="source0", job_name="sales"):
    """One run of a script: init, one bookmarked read, commit. Returns what the read selected."""
    job = Job(FakeGlueContext())
    job.init(job_name, {"JOB_NAME": job_name, "job_bookmark_option": option})
    selected = _bookmarks.state().select(ctx, objects)
    job.commit()
    return selected


def test_in_memory_a_second_run_reads_only_new_objects():
    assert run([(A, 1.0), (B, 2.0)]) == [A, B]
    assert run([(A, 1.0), (B, 2.0), (C, 3.0)]) == [C]
    assert run([(A, 1.0), (B, 2.0), (C, 3.0)]) == []
    # Another job, another bookmark.
    assert run([(A, 1.0)], job_name="other") == [A]


def test_file_backed_state_survives_the_process_and_is_readable(monkeypatch, tmp_path):
    path = tmp_path / "bookmark.json"
    monkeypatch.setenv(_bookmarks.FILE_ENV, str(path))
    assert run([(A, 1.0), (B, 2.0)]) == [A, B]
    _bookmarks.reset()  # a new process: nothing left in memory
    assert run([(A, 1.0), (B, 2.0), (C, 3.5)]) == [C]

    document = json.loads(path.read_text())
    assert document["version"] == _bookmarks.FORMAT_VERSION
    assert document["job_name"] == "sales"
    assert document["committed"] is True
    assert document["contexts"] == {"source0": {"high_water_mark": 3.5, "objects": {A: 1.0, B: 2.0, C: 3.5}}}
    assert not list(tmp_path.glob(".*tmp")), "written atomically through a temporary file"


def test_a_missing_file_is_no_state(monkeypatch, tmp_path):
    monkeypatch.setenv(_bookmarks.FILE_ENV, str(tmp_path / "absent.json"))
    assert run([(A, 1.0)]) == [A]


def test_a_file_of_another_format_version_is_refused(monkeypatch, tmp_path):
    path = tmp_path / "bookmark.json"
    path.write_text(json.dumps({"version": 99, "contexts": {}}))
    monkeypatch.setenv(_bookmarks.FILE_ENV, str(path))
    with pytest.raises(ValueError, match="format version 99, expected 1"):
        run([(A, 1.0)])


def test_a_modified_object_is_read_again():
    run([(A, 1.0), (B, 2.0)])
    assert run([(A, 1.0), (B, 5.0)]) == [B]


def test_without_commit_nothing_is_saved():
    job = Job(FakeGlueContext())
    job.init("sales", {"job_bookmark_option": "job-bookmark-enable"})
    assert _bookmarks.state().select("source0", [(A, 1.0)]) == [A]
    # The run fails before job.commit(): the next run reads A again.
    assert run([(A, 1.0)]) == [A]


def test_pause_reads_what_is_new_without_advancing():
    run([(A, 1.0)])
    assert run([(A, 1.0), (B, 2.0)], option="job-bookmark-pause") == [B]
    assert run([(A, 1.0), (B, 2.0)], option="job-bookmark-pause") == [B]
    assert run([(A, 1.0), (B, 2.0)]) == [B]


def test_disable_reads_everything_and_records_nothing():
    run([(A, 1.0)])
    assert run([(A, 1.0), (B, 2.0)], option="job-bookmark-disable") == [A, B]
    assert not _bookmarks.state().enabled
    assert run([(A, 1.0), (B, 2.0)]) == [B]


def test_sources_are_tracked_by_their_transformation_ctx():
    run([(A, 1.0)], ctx="orders")
    assert run([(A, 1.0)], ctx="customers") == [A]
    assert run([(A, 1.0)], ctx="orders") == []
    # Without a transformation_ctx a source is not bookmarked.
    assert run([(A, 1.0)], ctx="") == [A]
    assert run([(A, 1.0)], ctx=None) == [A]


def test_reads_in_one_run_see_the_committed_state_only():
    job = Job(FakeGlueContext())
    job.init("sales", {"job_bookmark_option": "job-bookmark-enable"})
    assert _bookmarks.state().select("source0", [(A, 1.0)]) == [A]
    assert _bookmarks.state().select("source0", [(A, 1.0)]) == [A]
    job.commit()
    assert run([(A, 1.0)]) == []


def test_before_job_init_everything_is_read():
    state = _bookmarks.state()
    assert not state.enabled
    assert state.select("source0", [(A, 1.0), (B, 2.0)]) == [A, B]


def test_init_reads_the_option_from_sys_argv_when_args_lack_it(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["job.py", "--JOB_NAME", "sales", "--job-bookmark-option", "job-bookmark-enable"])
    job = Job(FakeGlueContext())
    assert not job.isInitialized()
    job.init("sales", {"JOB_NAME": "sales"})
    assert job.isInitialized()
    assert _bookmarks.state().option == "job-bookmark-enable"

    monkeypatch.setattr(sys, "argv", ["job.py"])
    Job(FakeGlueContext()).init("sales")
    assert _bookmarks.state().option == "job-bookmark-disable"


def test_init_refuses_an_unknown_option():
    with pytest.raises(GlueArgumentError, match="'job-bookmark-on': expected one of"):
        Job(FakeGlueContext()).init("sales", {"job_bookmark_option": "job-bookmark-on"})


def test_a_paused_range_of_runs_is_not_supported_locally():
    args = {"job_bookmark_option": "job-bookmark-pause", "job_bookmark_from": "jr_1", "job_bookmark_to": "jr_2"}
    with pytest.raises(NotSupportedLocally, match="--job-bookmark-from / --job-bookmark-to"):
        Job(FakeGlueContext()).init("sales", args)


def test_commit_before_init_is_an_error():
    with pytest.raises(RuntimeError, match=r"Job.commit\(\) before Job.init"):
        Job(FakeGlueContext()).commit()
