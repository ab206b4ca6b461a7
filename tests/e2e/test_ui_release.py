"""Releases approved, rejected and rolled back in the browser, on ``airflow standalone``.

Users ``admin`` (who triggers) and ``reviewer`` (an approver, not an admin); one story, to keep CI
time down. While the server starts, ``airflow dags test`` makes an earlier release live in prod.
``admin`` triggers ``release__process_sales_data`` through its trigger form (defaults plus release
notes) and is refused when answering its approval; ``reviewer`` finds it in Required Actions,
reads the evidence and approves: prod runs it. ``admin`` triggers a second release and, while it
runs, a rollback with an empty version: ``reviewer`` approves the rollback (prod runs the earlier
release again), then rejects the second release (it fails, prod is unchanged). Screenshots of
every step: ``.local/artifacts/ui/<test name>/``.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: `make browser` installs it")

from dev.local_airflow import AirflowStandalone, airflow_env, free_port, migrate
from support.dag_runs import changed_jobs_dir, dags_test, glue_job
from support.ui import Screenshots, UiUser, chromium

pytestmark = pytest.mark.e2e
RELEASE, ROLLBACK = "release__process_sales_data", "rollback_glue_job"
NOTES = "Typed into the trigger form by the browser test."


def prod_script(aws) -> str | None:
    try:
        return glue_job(aws, "process_sales_data-prod")["Command"]["ScriptLocation"]
    except aws("glue").exceptions.EntityNotFoundException:
        return None


def release_changed_sources(emulator, folder) -> None:
    """Make a release of changed sources live in prod (own metadata DB, tests and approval marked
    successful, as the local environments allow)."""
    env = airflow_env(folder / "home", emulator.endpoint_url)
    migrate(env)
    (folder / "logs").mkdir()
    airflow = SimpleNamespace(home=folder / "home", env=env, logs=folder / "logs")
    jobs_dir = changed_jobs_dir(folder, "earlier release (browser test)")
    run = dags_test(airflow, RELEASE, mark="^(test|approval)$", env={"GLUE_CICD_JOBS_DIR": str(jobs_dir)})
    assert run.state == "success", run.log[-3000:]


@pytest.fixture(scope="module")
def earlier_release(emulator, tmp_path_factory):
    """:func:`release_changed_sources` in the background (``.result()`` waits for it)."""
    with ThreadPoolExecutor(1) as pool:
        yield pool.submit(release_changed_sources, emulator, tmp_path_factory.mktemp("earlier-release"))


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    """``airflow standalone`` with users admin and reviewer (not an admin), stopped whatever happens."""
    home = tmp_path_factory.mktemp("airflow-ui")
    airflow = AirflowStandalone(
        airflow_env(home, emulator.endpoint_url), users=("admin:admin", "reviewer:user"), port=free_port()
    )
    try:
        yield airflow.start(timeout=300)
    finally:
        airflow.stop(timeout=30)


@pytest.fixture
def people(server, request):
    """``admin`` and ``reviewer`` signed in, each in a browser context of their own."""
    shots = Screenshots(request.node.name)
    passwords = server.passwords()
    with chromium() as browser:
        admin, reviewer = (UiUser(browser, server.url, name, passwords[name], shots) for name in ("admin", "reviewer"))
        admin.log_in()
        reviewer.log_in()
        yield admin, reviewer


def awaiting_approval(user: UiUser, dag_id: str, run_id: str) -> None:
    user.task_state(dag_id, run_id, "approval", ("Awaiting Input",))
    # Airflow 3.3.2 can fail the resumed task when an answer lands within a scheduler loop of the
    # task parking (a late executor event). People take longer than that.
    user.page.wait_for_timeout(5_000)


@pytest.mark.timeout(2400)  # a bound: 9.7 min measured on a quiet machine, 27-29 min on a loaded one
def test_release_approve_reject_and_rollback_in_the_browser(earlier_release, server, people, aws):
    admin, reviewer = people
    earlier_release.result()
    earlier = prod_script(aws)

    # The triggerer cannot approve; the reviewer reads the evidence and approves.
    approved = admin.trigger(RELEASE, text={"Release notes": NOTES})
    awaiting_approval(admin, RELEASE, approved)
    subject = admin.open_required_action(RELEASE, approved)
    assert admin.choices() == {"Approve": True, "Reject": True}  # offered, but refused when clicked
    refusal = admin.answer("Approve")
    assert refusal == "Access Denied You do not have permission to perform this action."
    admin.task_state(RELEASE, approved, "approval", ("Awaiting Input",), timeout=30)
    admin.run_state(RELEASE, approved, ("Running",), timeout=30)
    assert prod_script(aws) == earlier

    assert reviewer.open_required_action(RELEASE, approved) == subject
    version = re.fullmatch(r"Publish process_sales_data (\w+) and its data to prod\?", subject).group(1)
    earlier_version = earlier.rsplit("/", 2)[1]
    body = reviewer.request_body(subject)
    for evidence in (
        f"Publish process_sales_data version {version} and its data to prod",
        NOTES,
        "Git ref asked for: none (the deployed checkout)",
        f"Prod runs now: {earlier_version}",
        "Triggered by: admin (may not approve this release)",
        "May approve: reviewer",
        "Answer by: ",
        "Tests: ",
        "Quality gate on staging",
        "Audit of the shadow run",
        "Data diff: glue_cicd_prod.clean_sales",
        "Job definition change against prod",
        f"{version}/job.py",
    ):
        assert evidence in body
    assert reviewer.choices() == {"Approve": True, "Reject": True}
    assert reviewer.answer("Approve") == "approval response successful"
    rejected = admin.trigger(RELEASE, text={"Release notes": "To be rejected (browser test)."})  # queued
    reviewer.run_state(RELEASE, approved, ("Success",))
    promoted = prod_script(aws)
    assert promoted.endswith(f"/process_sales_data/{version}/job.py")
    assert promoted != earlier

    # While the second release runs, a rollback with an empty version restores the earlier release.
    rollback = admin.trigger(ROLLBACK, choose={"Glue job": "process_sales_data"})  # prod, version empty
    awaiting_approval(reviewer, ROLLBACK, rollback)
    subject = reviewer.open_required_action(ROLLBACK, rollback)
    assert subject == f"Roll back process_sales_data in prod to {earlier_version}?"
    assert reviewer.answer("Approve") == "approval response successful"
    reviewer.run_state(ROLLBACK, rollback, ("Success",))
    assert prod_script(aws) == earlier

    # The reviewer rejects the second release: it fails and prod is unchanged.
    awaiting_approval(reviewer, RELEASE, rejected)
    reviewer.open_required_action(RELEASE, rejected)
    assert reviewer.answer("Reject") == "approval response successful"
    reviewer.run_state(RELEASE, rejected, ("Failed",))
    reviewer.task_state(RELEASE, rejected, "publish", ("Upstream Failed",), timeout=30)
    assert prod_script(aws) == earlier
