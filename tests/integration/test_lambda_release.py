"""release_lambda__validate_raw_sales under ``airflow dags test`` against the emulator: a first
release goes live whole; a version that fails its staging samples never reaches prod; a canary
whose calls fail puts every call back on the previous version; a live alias changed outside the
pipeline is refused. Traffic during a bake comes from a thread calling prod's ``live`` alias."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from glue_cicd.paths import FUNCTIONS_DIR
from support.dag_runs import dags_test

DAG = "release_lambda__validate_raw_sales"
TARGET = "lambda:validate_raw_sales"
PROD = "validate_raw_sales-prod"
STAGING = "validate_raw_sales-staging"
PROD_DATA = "glue-cicd-data-prod-123456789012"


def functions_copy(tmp_path: Path, *, handler_change: str = "", traffic: str = "", timeout: int | None = None) -> Path:
    """A copy of lambda_functions/ whose validate_raw_sales handler ends with ``handler_change``
    and whose spec's traffic block is ``traffic`` (and its timeout ``timeout`` seconds)."""
    target = tmp_path / "lambda_functions"
    shutil.copytree(FUNCTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    folder = target / "validate_raw_sales"
    if handler_change:
        (folder / "handler.py").write_text((folder / "handler.py").read_text() + handler_change)
    if traffic:
        spec = (folder / "function.yaml").read_text()
        (folder / "function.yaml").write_text(spec[: spec.index("traffic:")] + traffic)
    if timeout:
        spec = (folder / "function.yaml").read_text()
        (folder / "function.yaml").write_text(spec.replace("timeout_seconds: 30", f"timeout_seconds: {timeout}"))
    return target


def release(airflow, functions_dir: Path | None = None, conf=None):
    env = {"GLUE_CICD_FUNCTIONS_DIR": str(functions_dir)} if functions_dir else {}
    return dags_test(airflow, DAG, mark="^approval$", env=env, conf=conf)


def live(aws, name: str = PROD) -> dict:
    return aws("lambda").get_alias(FunctionName=name, Name="live")


@pytest.fixture(scope="module")
def released(airflow, emulator, ledger, tmp_path_factory):
    """The checked-out function released once (its first prod version, or the one before)."""
    result = release(airflow)
    assert result.state == "success", result.log[-4000:]
    return ledger.live(TARGET, "prod")


def test_a_first_release_goes_live_whole_after_its_tests_and_staging_samples(airflow, aws, ledger, released):
    assert released.outcome == "verified"
    version = released.definition["lambda_version"]
    alias = live(aws)
    assert alias["FunctionVersion"] == version
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert live(aws, STAGING)["FunctionVersion"]
    event = {"Records": [{"s3": {"bucket": {"name": PROD_DATA}, "object": {"key": "raw/sales/part-0002.csv"}}}]}
    response = aws("lambda").invoke(FunctionName=PROD, Qualifier="live", Payload=json.dumps(event).encode())
    assert json.loads(response["Payload"].read())["files"][0]["rows"] == 1000
    tests = [e for e in ledger.events(TARGET, "test") if e["details"]["ok"]]
    assert tests[-1]["details"]["passed"] == 5


@pytest.mark.parametrize(
    ("change", "timeout", "error"),
    [
        ("\n\ndef handle(event, context):\n    raise KeyError('Records')\n", None, "KeyError"),
        ("\n\ndef handle(event, context):\n    import time\n    time.sleep(30)\n", 2, "Sandbox.Timedout"),
    ],
    ids=["raises", "times-out"],
)
def test_a_version_failing_a_staging_sample_never_reaches_prod(
    airflow, aws, ledger, released, tmp_path, change, timeout, error
):
    staging_before = live(aws, STAGING)["FunctionVersion"]
    broken = functions_copy(tmp_path, handler_change=change, timeout=timeout)
    result = release(airflow, broken)
    assert result.state == "failed"
    assert result.tasks["smoke_staging"] == "failed"
    assert result.tasks["deploy_prod"] == "upstream_failed"
    assert error in result.log
    assert live(aws, STAGING)["FunctionVersion"] == staging_before  # the alias went back
    assert live(aws)["FunctionVersion"] == released.definition["lambda_version"]
    assert ledger.lock_holder(TARGET, "prod") is None


def test_a_canary_whose_calls_fail_rolls_every_call_back_to_the_previous_version(
    airflow, aws, ledger, released, tmp_path, alerts
):
    alerts()
    # Passes the staging sample (part-0001) but fails on any other file: prod's traffic finds it.
    change = (
        "\n\n_checked = handle\n\n"
        "def handle(event, context):\n"
        "    if any(not k.endswith('part-0001.csv') for _, k in files_of(event)):\n"
        "        raise RuntimeError('regression')\n"
        "    return _checked(event, context)\n"
    )
    canary = functions_copy(tmp_path, handler_change=change, traffic="traffic:\n  steps: [50]\n  bake_minutes: 1\n")
    previous = live(aws)["FunctionVersion"]
    stop = threading.Event()
    calls = []

    def traffic():
        lam = aws("lambda")
        event = {"Records": [{"s3": {"bucket": {"name": PROD_DATA}, "object": {"key": "raw/sales/part-0002.csv"}}}]}
        while not stop.is_set():
            response = lam.invoke(FunctionName=PROD, Qualifier="live", Payload=json.dumps(event).encode())
            calls.append((response["ExecutedVersion"], response.get("FunctionError")))

    caller = threading.Thread(target=traffic, daemon=True)
    caller.start()
    try:
        result = release(airflow, canary)
    finally:
        stop.set()
        caller.join(timeout=60)
    assert result.state == "failed"
    assert result.tasks["shift_traffic"] == "failed"
    assert result.tasks["rollback_prod"] == "failed"  # it ran, and says the release failed
    assert "calls to the new version failed" in result.log
    alias = live(aws)
    assert alias["FunctionVersion"] == previous
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    failed = {version for version, error in calls if error}
    assert failed
    assert previous not in failed  # only the canary failed
    assert ledger.live(TARGET, "prod").definition["lambda_version"] == previous
    [alert] = [a for a in alerts() if "validate_raw_sales" in a["Subject"]]
    assert f"back on version {previous}" in alert["Message"]


def test_a_live_alias_changed_outside_the_pipeline_is_refused_unless_taken_over(
    airflow, aws, ledger, released, tmp_path
):
    lam = aws("lambda")
    expected = ledger.live(TARGET, "prod").definition["lambda_version"]
    # Someone edits prod by hand: a new version, and the alias on it.
    lam.update_function_configuration(FunctionName=PROD, Description="edited in the console")
    other = lam.publish_version(FunctionName=PROD)["Version"]
    lam.update_alias(FunctionName=PROD, Name="live", FunctionVersion=other)
    try:
        changed = functions_copy(tmp_path, handler_change="\n# another release\n")
        result = release(airflow, changed)
        assert result.state == "failed"
        assert result.tasks["deploy_prod"] == "failed"
        assert "drifted" in result.log
        assert live(aws)["FunctionVersion"] == other  # nothing deployed over it
    finally:
        lam.update_alias(FunctionName=PROD, Name="live", FunctionVersion=expected)


def test_a_release_waits_while_another_run_holds_the_prod_lock(airflow, aws, ledger, released, tmp_path):
    before = live(aws)["FunctionVersion"]
    ledger.acquire(TARGET, "prod", "release_lambda__validate_raw_sales/another-run")
    outcome = {}
    queued = functions_copy(tmp_path, handler_change="\n# a queued release\n")
    earlier = set(airflow.logs.glob(f"{DAG}-*.log"))
    runner = threading.Thread(target=lambda: outcome.update(result=release(airflow, queued)), daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 300
        while not any(
            "waiting for the lock" in p.read_text() for p in set(airflow.logs.glob(f"{DAG}-*.log")) - earlier
        ):
            assert time.monotonic() < deadline, "the release never reached wait_for_lock"
            assert runner.is_alive(), outcome["result"].log[-3000:]
            time.sleep(1)
        time.sleep(3)
        assert live(aws)["FunctionVersion"] == before  # nothing deployed while the lock is held
    finally:
        ledger.release(TARGET, "prod", "release_lambda__validate_raw_sales/another-run")
    runner.join(timeout=600)
    result = outcome["result"]
    assert result.state == "success", result.log[-3000:]
    assert live(aws)["FunctionVersion"] != before
    assert ledger.lock_holder(TARGET, "prod") is None
