"""Integration fixtures: one Airflow metadata DB (SQLite) for the session, wired to the emulator."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dev.local_airflow import airflow_env, migrate
from glue_cicd.hooks.ledger import LedgerHook


@pytest.fixture(scope="session")
def airflow(emulator, tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    env = airflow_env(home, emulator.endpoint_url)
    migrate(env)
    return SimpleNamespace(home=home, env=env, logs=tmp_path_factory.mktemp("dag-logs"))


@pytest.fixture(scope="session")
def ledger(emulator):
    return LedgerHook(aws_conn_id="aws_default", table="glue-cicd-release-ledger")


@pytest.fixture
def aws_env(monkeypatch, emulator):
    """The default boto3 clients reach the emulator, as in the emulator's own job runs (no bookmark file)."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("LOCALGLUE_BOOKMARK_FILE", raising=False)
    for name, value in {
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
