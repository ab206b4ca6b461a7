"""Job bookmarks on the emulator: runs of a script using ``awsglue.job.Job``, ``GetJobBookmark``
and ``ResetJobBookmark`` over HTTP with boto3 (no mocks)."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError
from integration.test_emulator_glue import BUCKET, create_job, upload_script

from support.glue_runs import wait_for_run

# A Python shell script (no Spark): lists its input prefix and reads what the bookmark selects.
READER = """
import sys
import boto3
from awsglue import _bookmarks
from awsglue.job import Job
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "bucket", "prefix"])
job = Job(None)
job.init(args["JOB_NAME"], args)
listing = boto3.client("s3").list_objects_v2(Bucket=args["bucket"], Prefix=args["prefix"]).get("Contents", [])
objects = [(f"s3://{args['bucket']}/{o['Key']}", o["LastModified"].timestamp()) for o in listing]
for uri in _bookmarks.state().select("source0", objects):
    print("read", uri.rsplit("/", 1)[-1])
job.commit()
if "--fail-after-commit" in sys.argv:
    raise RuntimeError("failed after job.commit()")
"""


@pytest.fixture
def job(aws):
    """A new Python shell job running READER, and the (empty) prefix it reads."""
    return create_job(aws, upload_script(aws, READER), kind="pythonshell"), f"test-bookmarks/{uuid.uuid4().hex}/"


def read(aws, job, option: str | None = "job-bookmark-enable", *extra: str) -> tuple[list[str], dict]:
    """Run the job; the file names it read and its JobRun."""
    name, prefix = job
    arguments = {"--bucket": BUCKET, "--prefix": prefix, **dict.fromkeys(extra, "")}
    if option:
        arguments["--job-bookmark-option"] = option
    glue = aws("glue")
    run = wait_for_run(glue, name, glue.start_job_run(JobName=name, Arguments=arguments)["JobRunId"], timeout=60)
    events = aws("logs").get_log_events(logGroupName="/aws-glue/jobs/output", logStreamName=run["Id"])["events"]
    return [e["message"].removeprefix("read ") for e in events if e["message"].startswith("read ")], run


def upload(aws, job, *files: str) -> None:
    for file in files:
        aws("s3").put_object(Bucket=BUCKET, Key=job[1] + file, Body=b"id\n1\n")


def bookmark(aws, job, **run) -> dict:
    return aws("glue").get_job_bookmark(JobName=job[0], **run)["JobBookmarkEntry"]


def not_found(call, **kwargs) -> str:
    with pytest.raises(ClientError) as error:
        call(**kwargs)
    assert error.value.response["Error"]["Code"] == "EntityNotFoundException"
    return error.value.response["Error"]["Message"]


def test_runs_read_what_is_new_and_reset_reads_everything_again(aws, job):
    glue = aws("glue")
    name = job[0]
    assert not_found(glue.get_job_bookmark, JobName=name) == f"Continuation for job {name} not found"
    assert not_found(glue.reset_job_bookmark, JobName=name) == f"Continuation for job {name} not found"
    upload(aws, job, "a.csv", "b.csv")

    first, first_run = read(aws, job)
    assert first_run["JobRunState"] == "SUCCEEDED", first_run.get("ErrorMessage")
    assert first == ["a.csv", "b.csv"]
    entry = bookmark(aws, job)
    assert entry["JobName"] == name
    assert (entry["Version"], entry["Run"], entry["Attempt"], entry["RunId"]) == (1, 1, 0, first_run["Id"])
    state = json.loads(entry["JobBookmark"])
    assert state["job_name"] == name
    assert sorted(state["contexts"]["source0"]["objects"]) == [f"s3://{BUCKET}/{job[1]}{f}" for f in ("a.csv", "b.csv")]

    upload(aws, job, "c.csv")
    second, second_run = read(aws, job)
    assert second == ["c.csv"]
    entry = bookmark(aws, job)
    assert (entry["Version"], entry["Run"], entry["RunId"], entry["PreviousRunId"]) == (
        2,
        2,
        second_run["Id"],
        first_run["Id"],
    )
    assert bookmark(aws, job, RunId=first_run["Id"])["RunId"] == first_run["Id"]

    # Paused and disabled runs read from the bookmark / everything, and leave it as it was.
    upload(aws, job, "d.csv")
    assert read(aws, job, "job-bookmark-pause")[0] == ["d.csv"]
    assert read(aws, job, None)[0] == ["a.csv", "b.csv", "c.csv", "d.csv"]
    assert bookmark(aws, job)["Version"] == 2

    # Rewound to the first run: what came after it is read again.
    rewound = glue.reset_job_bookmark(JobName=name, RunId=first_run["Id"])["JobBookmarkEntry"]
    assert (rewound["Version"], rewound["RunId"]) == (3, first_run["Id"])
    assert read(aws, job)[0] == ["c.csv", "d.csv"]

    reset = glue.reset_job_bookmark(JobName=name)["JobBookmarkEntry"]
    assert reset["Version"] == 5
    assert json.loads(reset["JobBookmark"]) == {}
    assert read(aws, job)[0] == ["a.csv", "b.csv", "c.csv", "d.csv"]


def test_a_run_failing_after_commit_keeps_what_it_committed(aws, job):
    """As on AWS: the commit is saved when made, and the run had already written what it read."""
    upload(aws, job, "a.csv")
    assert read(aws, job)[0] == ["a.csv"]
    before = bookmark(aws, job)
    upload(aws, job, "b.csv")
    read_files, failed = read(aws, job, "job-bookmark-enable", "--fail-after-commit")
    assert failed["JobRunState"] == "FAILED"
    assert read_files == ["b.csv"]
    assert bookmark(aws, job)["Version"] == before["Version"] + 1
    assert bookmark(aws, job, RunId=failed["Id"])["RunId"] == failed["Id"]
    upload(aws, job, "c.csv")
    assert read(aws, job)[0] == ["c.csv"]


def test_bookmark_calls_of_an_unknown_job(aws):
    glue = aws("glue")
    assert not_found(glue.get_job_bookmark, JobName="no-such-job") == "Job no-such-job not found."
    assert not_found(glue.reset_job_bookmark, JobName="no-such-job") == "Job no-such-job not found."


def test_deleting_a_job_deletes_its_bookmark(aws, job):
    glue, name = aws("glue"), job[0]
    upload(aws, job, "a.csv")
    assert read(aws, job)[0] == ["a.csv"]
    definition = glue.get_job(JobName=name)["Job"]
    glue.delete_job(JobName=name)
    glue.create_job(Name=name, Role=definition["Role"], Command=definition["Command"])
    assert not_found(glue.get_job_bookmark, JobName=name) == f"Continuation for job {name} not found"
    assert read(aws, job)[0] == ["a.csv"]
