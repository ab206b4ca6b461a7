"""Runs of the live prod release (``run__<job>``) on the emulator, task by task: a run publishes only
its audited generation, under the prod lock, and every fault leaves consumers reading the last good
data with one alert sent. Generations are written with pyarrow as a run writes them;
``tests/integration/test_run_dag.py`` runs whole run DAGs on Spark."""

from __future__ import annotations

from datetime import date

import pytest
from airflow.sdk.exceptions import AirflowFailException
from operators.test_write_audit_publish import (
    APPROVED,
    BASE,
    JOB,
    diff,
    publish,
    published,
    python_shell_job,
    release,
    sales,
    write_generation,
)

from glue_cicd.generations import generation_uri
from glue_cicd.operators.base import XCOM_FAILURE
from glue_cicd.operators.glue_run import glue_run
from glue_cicd.operators.locks import ProdLockSensor
from glue_cicd.operators.quality import QualityGateOperator
from glue_cicd.operators.rollback import RollbackOperator
from glue_cicd.operators.runs import PrepareRunOperator, RunFailedOperator, RunPublishOperator
from glue_cicd.spec import load_environments
from support.context import context
from support.glue_runs import wait_for_run

D24, D25, D26, D27 = (date(2026, 11, day) for day in (24, 25, 26, 27))


def owner(ctx) -> str:
    return f"{ctx['dag'].dag_id}/{ctx['run_id']}"


def prepare(ctx) -> dict:
    return PrepareRunOperator(task_id="prepare", job=JOB).execute(ctx)


def run_publish(ctx, prepared) -> list[dict]:
    task = RunPublishOperator(
        task_id="publish", job=JOB, generation=prepared["generation"], release=prepared["release"],
        artifact=prepared["artifact"],
    )  # fmt: skip
    return task.execute(ctx)


def run_audit(ctx, prepared, *, through_catalog=False) -> list[dict]:
    task = QualityGateOperator(
        task_id="verify" if through_catalog else "audit", job=JOB, environment="prod",
        artifact=prepared["artifact"], generation=prepared["generation"], through_catalog=through_catalog,
        verifies_release=False,
    )  # fmt: skip
    return task.execute(ctx)


def on_failure(ctx, prepared) -> AirflowFailException:
    with pytest.raises(AirflowFailException) as failed:
        RunFailedOperator(task_id="on_failure", job=JOB, generation=prepared["generation"]).execute(ctx)
    return failed.value


def run(aws, partitions, ctx=None) -> tuple[dict, dict]:
    """One whole successful run writing ``partitions``; returns its context and prepare's result."""
    ctx = ctx or context()
    prepared = prepare(ctx)
    write_generation(aws, partitions, prepared["generation"])
    run_audit(ctx, prepared)
    assert ProdLockSensor(task_id="wait_for_lock", job=JOB).poke(ctx)
    run_publish(ctx, prepared)
    run_audit(ctx, prepared, through_catalog=True)
    ledger_hook().release(JOB, "prod", owner(ctx))
    return ctx, prepared


def ledger_hook():
    from glue_cicd.hooks.ledger import LedgerHook

    return LedgerHook(aws_conn_id="aws_default", table="glue-cicd-release-ledger")


def test_a_run_publishes_its_audited_partitions_beside_the_published_history(aws, catalog, ledger, fresh, versions):
    v1 = versions[0]
    old = release(aws, catalog, v1, sales({D24: 30, D25: 20}))
    ctx = context()

    prepared = prepare(ctx)
    assert prepared["artifact"]["version"] == v1["version"]
    assert prepared["arguments"] == {
        "--output_path": generation_uri(BASE, prepared["generation"]),
        "--job-bookmark-option": "job-bookmark-disable",
    }
    write_generation(aws, sales({D26: 15}), prepared["generation"])
    assert published(catalog) == {"2026-11-24": old, "2026-11-25": old}  # written, not yet read by anyone
    assert run_audit(ctx, prepared)[0]["row_count"] == 15  # what the run wrote, not the table's history
    assert ProdLockSensor(task_id="wait_for_lock", job=JOB).poke(ctx)
    result = run_publish(ctx, prepared)
    checked = run_audit(ctx, prepared, through_catalog=True)

    assert result[0]["outcome"] == "published"
    assert published(catalog) == {"2026-11-24": old, "2026-11-25": old, "2026-11-26": prepared["generation"]}
    assert checked[0]["row_count"] == 15
    [recorded] = ledger.runs(JOB, "prod")
    assert recorded["release"] == ledger.live(JOB, "prod").sk
    assert (recorded["generation"], recorded["outcome"], list(recorded["data"])) == (
        prepared["generation"],
        "published",
        ["clean_sales"],
    )
    assert ledger.live(JOB, "prod").outcome == "deployed"  # a run's check does not re-verify the release


def test_a_failed_audit_publishes_nothing_and_sends_one_alert_with_the_failed_expectations(
    aws, catalog, fresh, versions, alerts
):
    good = release(aws, catalog, versions[0], sales({D25: 20}))
    ctx = context()
    prepared = prepare(ctx)
    write_generation(aws, sales({D26: 20}, amount=-5.0), prepared["generation"])
    alerts()  # earlier messages

    with pytest.raises(AirflowFailException, match="audit failed in prod; nothing was published"):
        run_audit(ctx, prepared)
    failed = on_failure(ctx, prepared)

    assert published(catalog) == {"2026-11-25": good}
    assert "nothing was published: consumers read what they read before" in str(failed)
    [alert] = alerts()
    assert alert["Subject"] == f"[glue-cicd] run of {JOB} failed"
    assert "audit: audit failed in prod" in alert["Message"]
    assert "amount" in alert["Message"]
    assert owner(ctx) in alert["Message"]


def test_a_run_that_wrote_nothing_is_refused_by_its_audit(aws, catalog, fresh, versions):
    good = release(aws, catalog, versions[0], sales({D25: 20}))
    ctx = context()
    prepared = prepare(ctx)

    with pytest.raises(AirflowFailException, match=r"nothing was published: clean_sales: no data files under s3://"):
        run_audit(ctx, prepared)
    assert published(catalog) == {"2026-11-25": good}


def test_a_check_failing_after_a_run_published_withdraws_the_publish(aws, catalog, ledger, fresh, versions, alerts):
    good = release(aws, catalog, versions[0], sales({D25: 20}))
    ctx = context()
    prepared = prepare(ctx)
    write_generation(aws, sales({D25: 10, D26: 10}), prepared["generation"])
    run_publish(ctx, prepared)
    assert published(catalog) == {"2026-11-25": prepared["generation"], "2026-11-26": prepared["generation"]}
    ctx["ti"].xcom_push(key=XCOM_FAILURE, value="post-publish check failed in prod: clean_sales: 1 failed expectation")
    alerts()

    failed = on_failure(ctx, prepared)

    assert published(catalog) == {"2026-11-25": good}
    assert "withdrawn" in str(failed)
    assert [r["outcome"] for r in ledger.runs(JOB, "prod")] == ["withdrawn"]
    [alert] = alerts()
    assert "its publish was withdrawn" in alert["Message"]


def test_a_run_waits_for_the_lock_of_a_release_publishing_the_same_job(aws, catalog, ledger, fresh, versions):
    release(aws, catalog, versions[0], sales({D25: 20}))
    ctx = context()
    prepared = prepare(ctx)
    write_generation(aws, sales({D26: 20}), prepared["generation"])
    ledger.acquire(JOB, "prod", "release__process_sales_data/manual__publishing")
    sensor = ProdLockSensor(task_id="wait_for_lock", job=JOB)

    assert sensor.poke(ctx) is False
    with pytest.raises(AirflowFailException, match="is locked by release__process_sales_data/manual__publishing"):
        run_publish(ctx, prepared)
    assert "2026-11-26" not in published(catalog)
    # Nor does a failed run withdraw anything under someone else's lock: it says so in its alert.
    refused = on_failure(ctx, prepared)
    assert "nothing was published" in str(refused)

    ledger.release(JOB, "prod", "release__process_sales_data/manual__publishing")
    assert sensor.poke(ctx) is True
    # While the run holds it, a release's publish is refused in turn.
    with pytest.raises(AirflowFailException, match=f"is locked by {owner(ctx)}"):
        publish(versions[1], write_generation(aws, sales({D25: 20}, amount=12.0)))
    run_publish(ctx, prepared)
    assert published(catalog)["2026-11-26"] == prepared["generation"]


def test_two_runs_at_once_publish_one_after_the_other(aws, catalog, ledger, fresh, versions):
    release(aws, catalog, versions[0], sales({D25: 20}))
    first, second = context(), context()
    one, two = prepare(first), prepare(second)
    write_generation(aws, sales({D26: 20}), one["generation"])
    write_generation(aws, sales({D26: 25}), two["generation"])
    assert ProdLockSensor(task_id="wait_for_lock", job=JOB).poke(first)
    assert ProdLockSensor(task_id="wait_for_lock", job=JOB).poke(second) is False

    run_publish(first, one)
    ledger.release(JOB, "prod", owner(first))
    assert ProdLockSensor(task_id="wait_for_lock", job=JOB).poke(second)
    run_publish(second, two)
    ledger.release(JOB, "prod", owner(second))

    assert published(catalog)["2026-11-26"] == two["generation"]
    assert [r["generation"] for r in ledger.runs(JOB, "prod")] == [one["generation"], two["generation"]]


def test_a_run_of_a_release_superseded_meanwhile_publishes_nothing(aws, catalog, fresh, versions):
    v1, v2 = versions
    release(aws, catalog, v1, sales({D25: 20}))
    ctx = context()
    prepared = prepare(ctx)
    write_generation(aws, sales({D26: 20}), prepared["generation"])
    again = release(aws, catalog, v1, sales({D25: 20}))  # the same code released again: still publishes
    run_publish(ctx, prepared)
    ledger_hook().release(JOB, "prod", owner(ctx))
    assert published(catalog) == {"2026-11-25": again, "2026-11-26": prepared["generation"]}
    ctx = context()
    prepared = prepare(ctx)
    write_generation(aws, sales({D27: 20}), prepared["generation"])
    published_before = published(catalog)
    newer = release(aws, catalog, v2, sales({D25: 20}, amount=12.0))

    with pytest.raises(AirflowFailException, match=f"{v2['version']} went live in prod while this run ran"):
        run_publish(ctx, prepared)
    assert published(catalog) == {"2026-11-25": newer, "2026-11-26": published_before["2026-11-26"]}


def test_a_release_never_publishes_over_a_newer_run_unnoticed(aws, catalog, fresh, versions):
    v1, v2 = versions
    release(aws, catalog, v1, sales({D25: 20}))
    candidate = write_generation(aws, sales({D25: 20}, amount=12.0))
    seen = diff(v2, candidate)
    _, ran = run(aws, sales({D26: 20}))  # a scheduled run publishes while the release awaits approval

    with pytest.raises(AirflowFailException, match="changed since the release compared against it"):
        publish(v2, candidate, seen)
    assert published(catalog)["2026-11-26"] == ran["generation"]


def test_a_job_edited_outside_the_pipeline_or_never_released_is_not_run(aws, catalog, fresh, versions):
    release(aws, catalog, versions[0], sales({D25: 20}))
    job = aws("glue").get_job(JobName=f"{JOB}-prod")["Job"]
    aws("glue").update_job(
        JobName=f"{JOB}-prod",
        JobUpdate={"Role": job["Role"], "Command": job["Command"], "DefaultArguments": job["DefaultArguments"],
                   "GlueVersion": job["GlueVersion"], "WorkerType": job["WorkerType"], "NumberOfWorkers": 10},
    )  # fmt: skip
    with pytest.raises(AirflowFailException, match=r"(?s)changed outside the pipeline.*NumberOfWorkers: 2 -> 10"):
        prepare(context())

    for deployment in ledger_hook().deployments(JOB, "prod"):
        key = {"pk": {"S": f"JOB#{JOB}"}, "sk": {"S": deployment.sk}}
        aws("dynamodb").delete_item(TableName="glue-cicd-release-ledger", Key=key)
    with pytest.raises(AirflowFailException, match="was never released to prod: nothing to run"):
        prepare(context())


def test_a_rollback_restores_the_targets_runs_and_withdraws_the_later_releases(aws, catalog, ledger, fresh, versions):
    v1, v2 = versions
    first = release(aws, catalog, v1, sales({D24: 20, D25: 20}))
    _, under_v1 = run(aws, sales({D25: 20, D26: 20}))  # the run republishes a day of its release too
    second = release(aws, catalog, v2, sales({D24: 20, D25: 20, D26: 20}, amount=12.0))
    _, under_v2 = run(aws, sales({D27: 20}, amount=12.0))
    assert set(published(catalog).values()) == {second, under_v2["generation"]}

    rollback = RollbackOperator(
        task_id="rollback", job=JOB, environment="prod", version=v1["version"], approval=APPROVED
    )
    rollback.execute(context())

    ran = under_v1["generation"]
    assert published(catalog) == {"2026-11-24": first, "2026-11-25": ran, "2026-11-26": ran}
    outcomes = {r["generation"]: r["outcome"] for r in ledger.runs(JOB, "prod")}
    assert outcomes == {under_v1["generation"]: "published", under_v2["generation"]: "rolled_back"}


def test_a_failed_glue_run_records_its_end_state_and_error_for_the_alert(aws):
    glue, name = aws("glue"), python_shell_job(aws, "failing", b"raise ValueError('input is corrupt')\n")
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    wait_for_run(glue, name, run_id)
    task = glue_run("run", load_environments()["prod"], name, {})
    ctx = context()

    with pytest.raises(AirflowFailException, match=rf"Glue run {run_id} of {name} ended FAILED: .*input is corrupt"):
        task.execute_complete(ctx, {"status": "error", "message": "AWS Glue job failed.", "run_id": run_id})
    assert "input is corrupt" in ctx["ti"].xcom[XCOM_FAILURE]
    assert task.execute_complete(ctx, {"status": "success", "run_id": run_id}) == run_id


def test_a_run_glue_refuses_for_concurrency_waits_in_the_triggerer_and_starts_again(aws):
    from airflow.sdk.exceptions import TaskDeferred

    glue, name = aws("glue"), python_shell_job(aws, "busy", b"import time\ntime.sleep(60)\n")
    first = glue.start_job_run(JobName=name)["JobRunId"]  # MaxConcurrentRuns 1: the job is busy
    task = glue_run("run", load_environments()["prod"], name, {})

    with pytest.raises(TaskDeferred) as waiting:
        task.execute(context())

    assert waiting.value.method_name == "start_again"
    assert type(waiting.value.trigger).__name__ == "TimeDeltaTrigger"
    assert [r["Id"] for r in glue.get_job_runs(JobName=name)["JobRuns"]] == [first]  # nothing started
    glue.batch_stop_job_run(JobName=name, JobRunIds=[first])
    wait_for_run(glue, name, first)
    with pytest.raises(TaskDeferred) as started:
        task.start_again(context())
    assert started.value.method_name == "execute_complete"
    assert len(glue.get_job_runs(JobName=name)["JobRuns"]) == 2


def test_a_run_never_runs_a_release_marked_failed(aws, catalog, ledger, fresh, versions):
    release(aws, catalog, versions[0], sales({D25: 20}))
    ledger.set_outcome(ledger.live(JOB, "prod"), "failed")  # its rollback found nothing to restore

    with pytest.raises(AirflowFailException, match=r"latest release .* is marked failed: nothing run"):
        prepare(context())


def test_a_withdraw_that_fails_is_reported_in_the_alert(aws, catalog, ledger, fresh, versions, alerts):
    release(aws, catalog, versions[0], sales({D25: 20}))
    ctx = context()
    prepared = prepare(ctx)
    write_generation(aws, sales({D26: 20}), prepared["generation"])
    run_publish(ctx, prepared)
    ledger.release(JOB, "prod", owner(ctx))
    ledger.acquire(JOB, "prod", "release__process_sales_data/manual__meanwhile")  # its lock expired, taken over
    alerts()

    failed = on_failure(ctx, prepared)

    assert "withdrawing its publish FAILED" in str(failed)
    assert published(catalog)["2026-11-26"] == prepared["generation"]  # never undone under another's lock
    [alert] = alerts()
    assert "consumers may read its data" in alert["Message"]
