"""Release DAGs end to end with ``airflow dags test`` against the emulator (real Spark and GX):
releases that reach prod. Refused and failed releases are in ``test_release_refusals.py``.

The scenarios share one emulator and one Airflow metadata DB per pytest worker; each sets up the
prod state it needs (``ensure_released``), so any one runs alone (``pytest -k``) and in any order.
Self-approval and rejection are answered through a real API server in ``tests/e2e``, and at the
operator level in ``tests/operators``.
"""

from __future__ import annotations

import json

import pytest

from glue_cicd.paths import ENVIRONMENTS_FILE
from support.dag_runs import changed_jobs_dir, consumers_read, glue_job, release

# A scenario may first release the jobs it needs (ensure_released): minutes each when the machine is shared.
pytestmark = pytest.mark.timeout(1500)


def test_every_job_is_released_and_prod_runs_the_staging_artifact(airflow, aws, ledger):
    for job, table in (("process_sales_data", "clean_sales"), ("daily_sales_summary", "daily_sales")):
        run = release(airflow, job)  # in order: the summary reads the first's output through the catalog
        assert run.state == "success", run.log[-3000:]
        assert run.tasks["rollback_prod"] == "skipped"
        assert run.tasks["cleanup_generations"] == "success"
        # Consumers read the generation the shadow run wrote and the audit passed.
        published = [e for e in ledger.events(job, "publish") if e["details"]["environment"] == "prod"][-1]
        assert consumers_read(aws, table) == {published["details"]["generation"]}
        assert "### Data diff" in run.log
        # What matters stays readable: no GX registration chatter, no per-poll "no new logs" line.
        assert "Skipping registering function" not in run.log
        assert "No new Glue driver logs so far" not in run.log
        staging, prod = glue_job(aws, f"{job}-staging"), glue_job(aws, f"{job}-prod")
        assert prod["Command"]["ScriptLocation"] == staging["Command"]["ScriptLocation"]
        assert prod["Tags"]["ArtifactSha256"] == staging["Tags"]["ArtifactSha256"]
        assert prod["Tags"]["Environment"] == "prod"
        live = ledger.live(job, "prod")
        assert live.outcome == "verified"
        assert live.script_location == prod["Command"]["ScriptLocation"]
        assert run.tasks["request"] == "success"
        kinds = [e["event"] for e in ledger.events(job)]
        for kind in ("build", "test", "deployment", "quality", "data_diff", "approval", "promotion", "publish"):
            assert kind in kinds, kinds
        assert "verification" in kinds
        # The shadow job ran the candidate under its own role; prod's definition names no output.
        shadow = glue_job(aws, f"{job}-prod-shadow")
        assert shadow["Role"].endswith("role/glue-cicd-glue-shadow-role")
        assert not any(k.startswith("--output") for k in prod["DefaultArguments"])


def test_a_rerun_of_the_same_sources_publishes_fresh_data_and_changes_no_code(airflow, aws, ledger):
    first = release(airflow, "process_sales_data")  # prod runs these sources, tested
    assert first.state == "success", first.log[-3000:]
    before = glue_job(aws, "process_sales_data-prod")
    deployments = len(ledger.deployments("process_sales_data", "prod"))
    run = release(airflow, "process_sales_data")
    assert run.state == "success", run.log[-3000:]
    assert "on the same content" in run.log  # the first release's passing tests stand
    tests = ledger.events("process_sales_data", "test")
    assert tests[-1]["details"]["reused"] is True
    key = tests[-1]["details"]["key"]
    tested = [t for t in tests if t["details"].get("key") == key and not t["details"].get("reused")]
    assert tests[-1]["details"]["tested_in"] == tested[-1]["run_id"] != tests[-1]["run_id"]
    assert glue_job(aws, "process_sales_data-prod")["Command"] == before["Command"]
    # Same code, but the shadow run on today's prod inputs is published: a new generation.
    after = ledger.deployments("process_sales_data", "prod")
    assert len(after) == deployments + 1
    assert (after[-1].version, after[-1].definition) == (after[-2].version, after[-2].definition)
    assert after[-1].data != after[-2].data
    published = [e for e in ledger.events("process_sales_data", "publish") if e["details"]["environment"] == "prod"]
    assert consumers_read(aws, "clean_sales") == {published[-1]["details"]["generation"]}


def test_a_reviewers_recorded_approval_promotes(airflow, aws, ledger, tmp_path, alerts, slack_webhook):
    environments = tmp_path / "environments.yaml"
    environments.write_text(
        ENVIRONMENTS_FILE.read_text().replace("  sns: true", "  sns: true\n  slack_webhook_conn_id: slack_releases")
    )
    connection = {"conn_type": "slackwebhook", "password": slack_webhook.url}
    run = release(
        airflow,
        "process_sales_data",
        mark="^test$",
        jobs_dir=changed_jobs_dir(tmp_path, "v2"),
        answer=("reviewer", "Approve"),
        env={"GLUE_CICD_ENVIRONMENTS_FILE": str(environments), "AIRFLOW_CONN_SLACK_RELEASES": json.dumps(connection)},
    )
    assert run.state == "success", run.log[-3000:]
    live = ledger.live("process_sales_data", "prod")
    # When the approval started waiting: one message on the alerts topic and one to Slack.
    waiting = [m for m in alerts() if m["Subject"].startswith("[glue-cicd] Publish process_sales_data")]
    assert len(waiting) == 1, waiting
    assert [m["text"] for m in slack_webhook.received] == [waiting[0]["Message"]]
    for part in (f"process_sales_data {live.version}", "Triggered by: dag_test", "May approve: admin, reviewer",
                 "Answer by: 20", "/tasks/approval/required_actions"):  # fmt: skip
        assert part in waiting[0]["Message"]
    assert glue_job(aws, "process_sales_data-prod")["Command"]["ScriptLocation"] == live.script_location
    approvals = ledger.events("process_sales_data", "approval")
    assert approvals[-1]["who"] == "reviewer"
    assert approvals[-1]["details"]["recorded"] is True
