"""Integration fixtures: one Airflow metadata DB (SQLite) for the session, wired to the emulator."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from glue_cicd.ledger import Ledger
from glue_cicd.local_airflow import airflow_env, migrate


@pytest.fixture(scope="session")
def airflow(emulator, tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    env = airflow_env(home, emulator.endpoint_url)
    migrate(env)
    return SimpleNamespace(home=home, env=env, logs=tmp_path_factory.mktemp("dag-logs"))


@pytest.fixture(scope="session")
def ledger(aws):
    return Ledger(aws("dynamodb"), "glue-cicd-release-ledger")
