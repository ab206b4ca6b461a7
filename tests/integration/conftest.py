"""Integration fixtures: one Airflow metadata DB (SQLite) for the session, wired to the emulator."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


@pytest.fixture
def slack_webhook():
    """A stand-in for Slack's incoming-webhook endpoint (the outside world): ``url`` and the JSON
    bodies ``received``."""
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/services/T0/B0/x", received=received)
    server.shutdown()
    server.server_close()
