"""Operators executed in this process against the session's emulator (seconds each): what they
return, and that a refusal fails the task without retry, records why and changes nothing."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException
from botocore.exceptions import ClientError

from glue_cicd.hooks.ledger import LedgerHook
from glue_cicd.ledger import LockHeldError
from glue_cicd.operators.base import XCOM_FAILURE, JobOperator
from glue_cicd.operators.build import BuildArtifactOperator
from glue_cicd.operators.publish import PublishOperator
from glue_cicd.operators.request import ReleaseRequestOperator
from glue_cicd.operators.rollback import RollbackCheckOperator
from support.context import context

JOB = "process_sales_data"


@pytest.fixture
def ledger(emulator):
    return LedgerHook(aws_conn_id="aws_default", table="glue-cicd-release-ledger")


def test_the_request_hands_params_on_typed(emulator):
    result = ReleaseRequestOperator(task_id="request", job=JOB).execute(
        context(git_ref="HEAD", release_notes="notes", allow_drift=False)
    )
    assert result["allow_drift"] is False
    assert len(result["commit"]) == 40
    assert result["triggered_by"] == "alice"


@pytest.mark.parametrize(
    ("job", "params", "message"),
    [
        (JOB, {"git_ref": "no-such-ref-anywhere"}, "git ref 'no-such-ref-anywhere' is not a commit"),
        (
            "no_such_job",
            {},
            "job 'no_such_job': no such job; known jobs: customer_daily_spend, daily_sales_summary, process_sales_data",
        ),
    ],
    ids=["bad git ref", "unknown job"],
)
def test_a_bad_request_is_refused_without_retry(emulator, job, params, message):
    ctx = context(**params)
    with pytest.raises(AirflowFailException, match=message):
        ReleaseRequestOperator(task_id="request", job=job).execute(ctx)
    assert message in ctx["ti"].xcom[XCOM_FAILURE]


def test_a_build_publishes_once_and_is_recorded(emulator, ledger):
    first = BuildArtifactOperator(task_id="build", job=JOB).execute(context())
    again = BuildArtifactOperator(task_id="build", job=JOB).execute(context())
    assert first == again
    assert first["uri"] == f"s3://glue-cicd-artifacts-123456789012/{JOB}/{first['version']}/"
    builds = [e for e in ledger.events(JOB, "build") if e["details"]["version"] == first["version"]]
    assert builds[-1]["details"]["new"] is False


@pytest.mark.parametrize(
    ("answer", "by", "message"),
    [
        ("Approve", "alice", "cannot also approve it"),
        ("Reject", "bob", r"was not approved \(answer: \['Reject'\]\)"),
        (None, None, "marked successful by hand"),  # the UI's "Mark as success", even under the local config
    ],
    ids=["self-approval", "rejection", "hand-marked"],
)
def test_an_invalid_approval_is_refused_before_prod_changes(emulator, aws, ledger, answer, by, message):
    artifact = BuildArtifactOperator(task_id="build", job=JOB).execute(context())
    deployments = len(ledger.deployments(JOB, "prod"))
    ctx = context(user="alice")
    approval = answer and {"chosen_options": [answer], "responded_by_user": {"id": by, "name": by}}
    operator = PublishOperator(
        task_id="publish", job=JOB, environment="prod", artifact=artifact, generation="20261125T000000-000000",
        approval=approval,
    )  # fmt: skip
    with pytest.raises(AirflowFailException, match=message):
        operator.execute(ctx)
    assert "publish refused, prod unchanged" in ctx["ti"].xcom[XCOM_FAILURE]
    assert len(ledger.deployments(JOB, "prod")) == deployments
    assert ledger.lock_holder(JOB, "prod") is None or ledger.lock_holder(JOB, "prod")["owner"] != ctx["run_id"]


def test_a_rollback_to_an_unreleased_version_is_refused(emulator):
    ctx = context()
    operator = RollbackCheckOperator(task_id="check_request", job=JOB, environment="staging", version="0000deadbeef")
    with pytest.raises(AirflowFailException, match="rollback refused, nothing changed"):
        operator.execute(ctx)


class _Raises(JobOperator):
    def __init__(self, *, job: str, error: Exception, **kwargs):
        super().__init__(**kwargs)
        self.job = job
        self.error = error

    def perform(self, context):
        raise self.error


def test_one_failure_policy_refusals_fail_at_once_other_errors_are_retried():
    ctx = context()
    with pytest.raises(AirflowFailException, match="lock held"):
        _Raises(task_id="t", job=JOB, error=LockHeldError("lock held")).execute(ctx)
    assert ctx["ti"].xcom[XCOM_FAILURE] == "lock held"
    ctx = context()
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetJob")
    with pytest.raises(ClientError):  # not AirflowFailException: the task's retries apply
        _Raises(task_id="t", job=JOB, error=throttled).execute(ctx)
    assert XCOM_FAILURE not in ctx["ti"].xcom
