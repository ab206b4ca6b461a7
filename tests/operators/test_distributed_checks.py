"""Checks of datasets over ``distributed_checks``' size run in the checks job, on the emulator's
local Spark, and give the verdicts of the in-process path on the same data; a checks job that
fails is an infrastructure error: retried, and never a verdict."""

from __future__ import annotations

import re
import threading
from datetime import date

import pyarrow as pa
import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from operators.test_write_audit_publish import JOB, published, release, sales, write_generation

from glue_cicd import data_diff
from glue_cicd.hooks.artifacts import ArtifactStoreHook
from glue_cicd.operators.base import XCOM_FAILURE
from glue_cicd.operators.data_diff import DataDiffOperator
from glue_cicd.operators.quality import QualityGateOperator
from glue_cicd.operators.revalidation import RevalidateDatasetOperator
from glue_cicd.paths import ENVIRONMENTS_FILE
from support.context import context
from support.deferral import run_deferrable

CHECKS_JOB = "glue-cicd-checks-prod"
D24, D25, D26 = date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)
# What a verdict is made of: the counts, and each failed expectation with its unexpected count.
VERDICT = ("success", "evaluated", "passed", "failed", "row_count")


@pytest.fixture
def paths(tmp_path, monkeypatch):
    """``paths("distributed")`` or ``paths("in-process")``: the environments config the library
    reads from then on, with thresholds that send 50 rows to the checks job, or nothing."""

    def use(path: str) -> None:
        config = tmp_path / f"{path}.yaml"
        rows = 50 if path == "distributed" else 10**9
        config.write_text(
            ENVIRONMENTS_FILE.read_text() + f"distributed_checks:\n  min_rows: {rows}\n  min_bytes: null\n"
        )
        monkeypatch.setenv("GLUE_CICD_ENVIRONMENTS_FILE", str(config))

    return use


def verdict(result: dict) -> dict:
    failures = sorted((f["expectation"], str(f["column"]), f["unexpected_count"]) for f in result["failures"])
    return {**{k: result[k] for k in VERDICT}, "failures": failures}


def audit(artifact, generation) -> list[dict]:
    task = QualityGateOperator(task_id="audit", job=JOB, environment="prod", artifact=artifact, generation=generation)
    return run_deferrable(task, context())


def audit_failure(artifact, generation) -> str:
    """The audit's refusal, without its sample values (either engine picks its own)."""
    with pytest.raises(AirflowFailException) as failed:
        audit(artifact, generation)
    return re.sub(r", e\.g\. .*? \(expected", " (expected", str(failed.value))


def stored(uri: str) -> dict:
    return ArtifactStoreHook(aws_conn_id="aws_default").get_json(uri)


def checks_runs(glue) -> list[dict]:
    try:
        return glue.get_job_runs(JobName=CHECKS_JOB)["JobRuns"]
    except glue.exceptions.EntityNotFoundException:
        return []


def test_an_audit_over_the_threshold_runs_in_the_checks_job_with_the_in_process_verdict(
    aws, catalog, fresh, versions, paths
):
    good = write_generation(aws, sales({D24: 30, D25: 20}))
    rows = sales({D24: 30, D25: 20}, amount=-1.0)  # a third of the amounts are not positive
    doubled = rows[D25]
    rows[D25] = pa.concat_tables([doubled, doubled.slice(0, 4)])  # and 4 sale ids twice
    bad = write_generation(aws, rows)
    before = {r["Id"] for r in checks_runs(aws("glue"))}

    paths("in-process")
    local = audit(versions[0], good)[0]
    local_refusal = audit_failure(versions[0], bad)
    paths("distributed")
    remote = audit(versions[0], good)[0]
    remote_refusal = audit_failure(versions[0], bad)

    assert "checked_by" not in local
    assert remote["checked_by"].startswith(f"{CHECKS_JOB}/jr_")
    assert verdict(remote) == verdict(local)
    assert remote["success"]
    assert remote["row_count"] == 50
    assert remote_refusal == local_refusal
    assert "expect_column_values_to_be_unique on sale_id: 8 unexpected" in remote_refusal
    assert "expect_column_values_to_be_between on amount: 37 unexpected" in remote_refusal
    runs = [r for r in checks_runs(aws("glue")) if r["Id"] not in before]
    assert [r["JobRunState"] for r in runs] == ["SUCCEEDED", "SUCCEEDED"]  # the good one, then the bad one
    assert published(catalog) == {}


def test_a_diff_over_the_threshold_refuses_what_the_in_process_diff_refuses(aws, catalog, fresh, versions, paths):
    paths("in-process")
    release(aws, catalog, versions[0], sales({D24: 30, D25: 30}))
    # 15 of the 60 published rows removed: over clean_sales' max_removed_share (0.2).
    candidate = write_generation(aws, {D24: sales({D24: 30})[D24], D25: sales({D25: 30})[D25].slice(15)})

    refusals = {}
    for path in ("in-process", "distributed"):
        paths(path)
        task = DataDiffOperator(task_id="data_diff", job=JOB, artifact=versions[1], generation=candidate)
        with pytest.raises(AirflowFailException) as refused:
            run_deferrable(task, context())
        refusals[path] = str(refused.value)

    assert refusals["distributed"] == refusals["in-process"]
    assert "25.00% of the published rows are removed (15 of 60), above the allowed 20.00%" in refusals["distributed"]


def test_a_diff_report_from_spark_matches_the_in_process_one(aws, catalog, fresh, versions, paths):
    paths("in-process")
    release(aws, catalog, versions[0], sales({D24: 30, D25: 30}))
    d25 = sales({D25: 30})[D25]
    amounts = d25["amount"].to_pylist()
    d25 = d25.set_column(3, "amount", pa.array([a + 1.5 if i < 5 else a for i, a in enumerate(amounts)]))
    d25 = pa.concat_tables([d25.slice(2), sales({D25: 4}, offset=900)[D25]])  # 2 removed, 4 added, 3 changed
    candidate = write_generation(aws, {D25: d25, D26: sales({D26: 20})[D26]})

    reports = {}
    for path in ("in-process", "distributed"):
        paths(path)
        task = DataDiffOperator(task_id="data_diff", job=JOB, artifact=versions[1], generation=candidate)
        (result,) = run_deferrable(task, context())
        reports[path] = stored(result["result_uri"])
    local, remote = reports["in-process"], reports["distributed"]

    assert remote["keys"] == local["keys"] == {
        "added": 24, "removed": 2, "changed": 3, "unchanged": 25, "duplicated_candidate": 0,
        "duplicated_published": 0, "null_candidate": 0, "null_published": 0,
    }  # fmt: skip
    for field in ("rows", "changed_share", "removed_share", "undeclared_changes", "first_release"):
        assert remote[field] == local[field], field
    columns = {c["column"]: c for c in local["columns"]}
    for column in remote["columns"]:
        expected = columns[column["column"]]
        for stat in ("changed", "match_rate", "null_rate", "distinct"):
            assert column[stat] == pytest.approx(expected[stat]), (column["column"], stat)
        for stat, values in (column["numeric"] or {}).items():
            assert values == pytest.approx(expected["numeric"][stat]), (column["column"], stat)
    assert data_diff.problems(remote) == data_diff.problems(local) == []
    assert sorted(s["key"]["sale_id"] for s in remote["samples"]["changed"]) == sorted(
        s["key"]["sale_id"] for s in local["samples"]["changed"]
    )


def test_revalidation_over_the_threshold_validates_the_whole_published_table_in_the_checks_job(
    aws, catalog, fresh, versions, paths
):
    paths("in-process")
    release(aws, catalog, versions[0], sales({D24: 30}))
    release(aws, catalog, versions[0], sales({D25: 30}))  # two generations, one partition each
    revalidate = RevalidateDatasetOperator(task_id="revalidate", job=JOB, dataset="clean_sales")
    local = run_deferrable(revalidate, context())

    paths("distributed")
    remote = run_deferrable(RevalidateDatasetOperator(task_id="revalidate", job=JOB, dataset="clean_sales"), context())

    assert remote == local
    assert remote["row_count"] == 60
    assert remote["success"]


def stop_runs(glue, *, count: int, before: set[str]) -> threading.Thread:
    """Stop the next ``count`` runs of the checks job once they run: the fault of a lost cluster."""

    def stop() -> None:
        stopped: set[str] = set()
        while len(stopped) < count:
            for run in checks_runs(glue):
                if run["Id"] not in before | stopped and run["JobRunState"] == "RUNNING":
                    glue.batch_stop_job_run(JobName=CHECKS_JOB, JobRunIds=[run["Id"]])
                    stopped.add(run["Id"])
            threading.Event().wait(0.2)

    thread = threading.Thread(target=stop, daemon=True)
    thread.start()
    return thread


def test_a_checks_job_run_that_fails_is_started_again_and_the_verdict_is_the_second_runs(
    aws, catalog, fresh, versions, paths
):
    glue = aws("glue")
    generation = write_generation(aws, sales({D24: 30, D25: 20}))
    paths("distributed")
    before = {r["Id"] for r in checks_runs(glue)}
    stopper = stop_runs(glue, count=1, before=before)

    (result,) = audit(versions[0], generation)

    stopper.join(timeout=5)
    runs = sorted((r for r in checks_runs(glue) if r["Id"] not in before), key=lambda r: r["StartedOn"])
    assert [r["JobRunState"] for r in runs] == ["STOPPED", "SUCCEEDED"]
    assert result["success"]
    assert result["checked_by"] == f"{CHECKS_JOB}/{runs[1]['Id']}"


def test_a_checks_job_that_keeps_failing_is_an_infrastructure_error_and_nothing_is_published(
    aws, catalog, fresh, versions, paths
):
    glue = aws("glue")
    paths("in-process")
    live = release(aws, catalog, versions[0], sales({D25: 30}))
    candidate = write_generation(aws, sales({D25: 50}, amount=99.0))
    paths("distributed")
    before = {r["Id"] for r in checks_runs(glue)}
    stopper = stop_runs(glue, count=2, before=before)
    ctx = context()
    task = QualityGateOperator(task_id="audit", job=JOB, environment="prod", artifact=versions[1], generation=candidate)

    with pytest.raises(AirflowException) as failed:
        run_deferrable(task, ctx)

    stopper.join(timeout=5)
    assert not isinstance(failed.value, AirflowFailException)  # retried as the task's retries allow
    message = str(failed.value)
    assert "ended STOPPED" in message
    assert "(attempt 2 of 2)" in message
    assert "an infrastructure error, not a data verdict" in message
    assert ctx["ti"].xcom[XCOM_FAILURE] == message  # what the run's alert reports
    assert published(catalog) == {"2026-11-25": live}  # the publish after it never ran
