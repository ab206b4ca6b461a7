"""DAG integrity: every DAG file imports, follows the project's policies and parses cheaply."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from glue_cicd.paths import PROJECT_DIR

DAGS_DIR = PROJECT_DIR / "dags"
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))
HEAVY_MODULES = ("great_expectations", "pyspark", "pandas")


@pytest.fixture(scope="module")
def dag_bag(tmp_path_factory):
    os.environ["AIRFLOW_HOME"] = str(tmp_path_factory.mktemp("airflow_home"))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_without_errors(dag_bag, dag_file):
    errors = {Path(path).name: error for path, error in dag_bag.import_errors.items()}
    assert dag_file.name not in errors, errors.get(dag_file.name)


def test_every_job_has_a_release_dag(dag_bag):
    jobs = sorted(p.parent.name for p in (PROJECT_DIR / "glue_jobs").glob("*/job.yaml"))
    assert jobs
    assert {f"release__{job}" for job in jobs} <= set(dag_bag.dag_ids)


def test_dag_policies(dag_bag):
    assert dag_bag.dags
    for dag_id, dag in dag_bag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        assert dag.max_active_runs is not None
        assert "retries" in dag.default_args, f"{dag_id} does not set retries explicitly"
        for task in dag.tasks:
            assert task.owner not in (None, "", "airflow"), f"{dag_id}.{task.task_id} has no owner"


def test_release_dag_wiring(dag_bag):
    dag = dag_bag.dags["release__process_sales_data"]
    order = [
        "request", "build", "test", "deploy_staging", "run_staging", "audit_staging", "publish_staging",
        "deploy_shadow", "shadow_run", "audit", "data_diff", "collect_evidence", "approval", "wait_for_lock", "publish",
        "verify_prod",
        "cleanup_generations",
    ]  # fmt: skip
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    assert dag.max_active_runs == 1
    assert dag.get_task("rollback_prod").trigger_rule == "one_failed"
    assert dag.get_task("release_locks").is_teardown
    # Glue runs wait in the triggerer, not in a worker slot; approvals and runs are never retried.
    for task_id in ("run_staging", "shadow_run"):
        assert dag.get_task(task_id).deferrable, task_id
    assert dag.get_task("shadow_run").job_name == "process_sales_data-prod-shadow"
    assert {dag.get_task(t).retries for t in ("run_staging", "shadow_run", "approval")} == {0}
    assert {"publish", "verify_prod"} <= set(dag.get_task("rollback_prod").upstream_task_ids)
    assert dag.get_task("build").retries > 0  # transient AWS errors retry; refusals fail at once
    approval = dag.get_task("approval")
    assert approval.defaults is None  # no highlighted option; unanswered, it fails at its timeout
    assert approval.fail_on_reject
    assert approval.response_timeout is not None
    assert approval.approvers == ["admin", "reviewer"]  # minus the triggering user, when it runs
    assert len(approval.notifiers) == 1
    assert {o.uri for o in dag.get_task("verify_prod").outlets} == {
        "s3://glue-cicd-data-prod-123456789012/curated/sales"
    }


def test_trigger_forms_can_be_submitted_with_their_defaults(dag_bag):
    """Airflow's trigger form requires a Param whose type does not allow null: such a Param needs a
    default the form accepts. Only the release notes are left for a person to write."""
    for dag_id, dag in dag_bag.dags.items():
        for name, param in dag.params.items():
            kind = param.schema.get("type")
            required = kind is not None and (isinstance(kind, str) or "null" not in kind)
            if required and param.value in (None, "") and name != "release_notes":
                raise AssertionError(f"{dag_id}: the form cannot be submitted without {name}")
    assert dag_bag.dags["release__process_sales_data"].params["git_ref"] is None
    assert dag_bag.dags["rollback_glue_job"].params["version"] is None


def test_release_rollback_and_revalidation_dags_are_active_when_created(dag_bag):
    for dag_id, dag in dag_bag.dags.items():
        # The tests' environments file (the emulator's) leaves the scheduled run DAGs paused.
        assert dag.is_paused_upon_creation is dag_id.startswith("run__"), dag_id


def test_every_job_has_a_run_dag_scheduled_as_its_spec_says(dag_bag):
    from airflow.sdk import CronDataIntervalTimetable

    jobs = sorted(p.parent.name for p in (PROJECT_DIR / "glue_jobs").glob("*/job.yaml"))
    assert {f"run__{job}" for job in jobs} <= set(dag_bag.dag_ids)
    # Date jobs get a data interval (the cron's), so a backfill's runs are one date each.
    spend = dag_bag.dags["run__customer_daily_spend"].timetable
    assert isinstance(spend, CronDataIntervalTimetable)
    assert spend.expression == "0 4 * * *"
    summary = dag_bag.dags["run__daily_sales_summary"].timetable
    assert type(summary).__name__ == "AssetTriggeredTimetable"
    assert [a.name for a in summary.asset_condition.objects] == ["process_sales_data.clean_sales"]
    assert isinstance(dag_bag.dags["run__process_sales_data"].timetable, CronDataIntervalTimetable)


def test_run_dag_wiring(dag_bag):
    dag = dag_bag.dags["run__process_sales_data"]
    order = ["prepare", "run", "audit", "wait_for_lock", "publish", "verify"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    assert dag.max_active_runs == 1  # a scheduled run waits for the one before it
    assert dag.get_task("run").deferrable
    assert dag.get_task("run").retries == 0
    assert dag.get_task("run").job_name == "process_sales_data-prod"
    on_failure = dag.get_task("on_failure")
    assert on_failure.trigger_rule == "one_failed"
    assert set(order) <= on_failure.upstream_task_ids
    assert dag.get_task("release_locks").is_teardown
    # Only a verified publish tells downstream runs and the revalidation that the data changed.
    assert [o.name for o in dag.get_task("verify").outlets] == ["process_sales_data.clean_sales"]
    assert not [t for t in dag.tasks if t.task_id != "verify" and t.outlets]


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_does_not_import_heavy_modules(dag_file, tmp_path):
    """The scheduler parses DAG files every 30 s: no GX, Spark or pandas at import time."""
    probe = (
        "import json, runpy, sys\n"
        f"try:\n    runpy.run_path({str(dag_file)!r})\nexcept Exception:\n    pass\n"
        f"print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
