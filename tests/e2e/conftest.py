"""Fixtures of the end-to-end tests: docker-compose.yaml's team stack, run without containers."""

from __future__ import annotations

import importlib.util

import pytest

from dev.team_stack import TeamStack


def pytest_configure(config):
    """Running the end-to-end tests (``-m e2e``) without Playwright is an error, not a skip."""
    if config.getoption("markexpr") == "e2e" and importlib.util.find_spec("playwright") is None:
        raise pytest.UsageError("the browser tests need Playwright: `make browser` installs it (make e2e does)")


@pytest.fixture(scope="module")
def team_stack(emulator, tmp_path_factory):
    """docker-compose.yaml's Airflow (CeleryExecutor, Postgres, Redis; :class:`dev.team_stack.TeamStack`)
    against the session's emulator, which it gives the ``aws_default`` connection secret as the
    aws-emulator service does. One per test module, everything stopped in bounded time whatever happens.

    Attributes: ``url`` (the API server, e.g. ``http://localhost:<port>``, the UI's base_url), ``passwords()`` (``{user:
    password}`` of compose's users: ``users`` maps each to its role, admin and reviewer), ``env`` (the
    Airflow services' environment), ``home`` (AIRFLOW_HOME), ``logs`` (a log file per process);
    ``restart(name)``, ``kill(name)`` and ``start_component(name)`` take a compose service name.
    """
    with TeamStack(tmp_path_factory.mktemp("team-stack"), emulator.endpoint_url) as stack:
        yield stack
