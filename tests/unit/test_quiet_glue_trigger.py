"""The Glue run trigger's task log: the driver's output and state changes, not per-poll noise."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import TaskDeferred

from glue_cicd.operators.glue_run import glue_run
from glue_cicd.spec import load_environments
from glue_cicd.triggers import POLLING, QuietGlueJobCompleteTrigger, QuietLog


class Recorder:
    def __init__(self):
        self.lines: list[str] = []

    def info(self, message, *args):
        self.lines.append(message % args if args else message)

    warning = info


def test_only_new_logs_and_state_changes_reach_the_task_log():
    recorder = Recorder()
    log = QuietLog(recorder)
    for state in ("RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"):
        log.info(POLLING, "job", state)
        log.warning("No new Glue driver logs so far.\nIf this persists, check %r.", "https://console")
        log.info("No new log from the Glue Job in /aws-glue/jobs/output")
    log.info("Glue Job Run /aws-glue/jobs/output Logs:\n\tread 1860 rows\n")
    assert recorder.lines == [
        "Polling for AWS Glue Job job current run state: RUNNING",
        "Polling for AWS Glue Job job current run state: SUCCEEDED",
        "Glue Job Run /aws-glue/jobs/output Logs:\n\tread 1860 rows\n",
    ]


def test_glue_runs_defer_to_the_quiet_trigger():
    env = load_environments()["staging"]
    operator = glue_run("run", env, "job-staging", {})
    operator.submit_job = lambda context: "jr_1"  # the deferral, not the AWS call, is under test
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})
    trigger = deferred.value.trigger
    assert type(trigger) is QuietGlueJobCompleteTrigger
    classpath, kwargs = trigger.serialize()
    assert classpath == "glue_cicd.triggers.QuietGlueJobCompleteTrigger"
    assert (kwargs["job_name"], kwargs["run_id"], kwargs["verbose"]) == ("job-staging", "jr_1", True)
