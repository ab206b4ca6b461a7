"""A local Airflow (SQLite) wired to this project and to the emulator: for the demo, ``make up``
and tests. Everything is set through environment variables, as in any Airflow deployment."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from dev import LOCAL_ENVIRONMENTS, PROJECT_DIR

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def airflow_env(airflow_home: Path, endpoint_url: str, region: str = "us-east-1") -> dict[str, str]:
    """Environment for Airflow commands: this project's DAGs, the emulator's environments config and an
    ``aws_default`` connection to ``endpoint_url``. Airflow puts the plugins folder on ``sys.path``."""
    connection = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": endpoint_url, "region_name": region},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))}
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT_DIR / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(PROJECT_DIR / "plugins"),
        # SQLite (the local default) allows one writer: wait for the lock rather than fail after 5 s
        # when a CLI command writes while `airflow standalone` runs. The team stack uses Postgres.
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{airflow_home}/airflow.db?timeout=60",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        AIRFLOW_CONN_AWS_DEFAULT=json.dumps(connection),
        AWS_DEFAULT_REGION=region,
        GX_ANALYTICS_ENABLED="false",
        GLUE_CICD_ENVIRONMENTS_FILE=str(LOCAL_ENVIRONMENTS),
        # `airflow standalone` starts its components as `airflow ...` from PATH: this environment's.
        PATH=os.pathsep.join([str(Path(AIRFLOW).parent), os.environ.get("PATH", "")]),
    )
    return env


def migrate(env: dict[str, str]) -> None:
    """Create or upgrade the metadata database."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)


def dags_test_command(
    dag_id: str, *, mark_success: str | None = None, conf: dict | None = None, logical_date: str | None = None
) -> list[str]:
    command = [AIRFLOW, "dags", "test", dag_id, *([logical_date] if logical_date else [])]
    if mark_success:
        command += ["--mark-success-pattern", mark_success]
    if conf:
        command += ["--conf", json.dumps(conf)]
    return command


def task_times(airflow_home: Path, dag_id: str) -> list[tuple[str, str, float]]:
    """(task, state, seconds) of the DAG's latest run in the SQLite metadata DB, in start order."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        rows = db.execute(
            "SELECT task_id, state, (julianday(end_date) - julianday(start_date)) * 86400 FROM task_instance "
            "WHERE dag_id = ? AND run_id = (SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1) "
            "ORDER BY start_date IS NULL, start_date",
            (dag_id, dag_id),
        ).fetchall()
    return [(task, state or "none", seconds or 0.0) for task, state, seconds in rows]


def xcom_value(airflow_home: Path, dag_id: str, task_id: str, key: str = "return_value"):
    """An XCom of the DAG's latest run (None if absent)."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        row = db.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = ? AND run_id = "
            "(SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1)",
            (dag_id, task_id, key, dag_id),
        ).fetchone()
    return None if row is None or row[0] is None else json.loads(row[0])


def dag_run_state(airflow_home: Path, dag_id: str) -> str | None:
    """State of the DAG's latest run."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        row = db.execute("SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)).fetchone()
    return row[0] if row else None


class AirflowStandalone:
    """``airflow standalone`` (api-server, scheduler, dag-processor, triggerer) in a child process group.

    :param env: environment from :func:`airflow_env`.
    :param users: simple-auth-manager users, ``name:role`` each; passwords are generated.
    :param port: the API server's port.
    """

    def __init__(self, env: dict[str, str], *, users: tuple[str, ...] = ("admin:admin",), port: int = 8080):
        self.env = dict(
            env,
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=",".join(users),
            AIRFLOW__API__PORT=str(port),
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{port}/execution/",
            # Links in "approval waiting" messages point here.
            AIRFLOW__API__BASE_URL=f"http://localhost:{port}",
            # The components' own servers on free ports: several Airflows may run on one machine.
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
            AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT=str(free_port()),
        )
        self.home = Path(env["AIRFLOW_HOME"])
        self.url = f"http://localhost:{port}"
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> AirflowStandalone:
        self.home.mkdir(parents=True, exist_ok=True)
        log = (self.home / "standalone.log").open("ab")
        self._process = subprocess.Popen(
            [AIRFLOW, "standalone"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"airflow standalone exited (code {self._process.returncode}); see {log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=2) as response:
                    health = json.load(response)
                if all(health.get(c, {}).get("status") == "healthy" for c in ("metadatabase", "scheduler")):
                    return self
            except OSError:
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"airflow standalone was not healthy within {timeout:.0f} s; see {log.name}")

    def passwords(self) -> dict[str, str]:
        return json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the whole process group, SIGKILL what is left after ``timeout``."""
        import signal

        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        # standalone can exit before its components do (a scheduler was once left running): end the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AirflowApi:
    """One user of an Airflow API server's REST API (token from ``POST /auth/token``).

    :param url: the API server, e.g. ``http://localhost:8080``.
    """

    def __init__(self, url: str, user: str, password: str):
        self.url = url
        self.password = password
        self.user = user
        token = self.call("POST", "/auth/token", {"username": user, "password": password}, auth=False)
        self.token = token["access_token"]

    def call(self, method: str, path: str, body=None, *, auth: bool = True):
        """One request; JSON in and out (text when the answer is not JSON)."""
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {self.token}"} if auth else {})},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return json.loads(text) if text.startswith(("{", "[")) else text

    def parsed_dag(self, dag_id: str, timeout: float = 180) -> dict:
        """The DAG (``GET /api/v2/dags/{dag_id}``), once the DAG processor has parsed it."""
        return self.wait(f"{dag_id} to be parsed", lambda: self.call("GET", f"/api/v2/dags/{dag_id}"), timeout=timeout)

    def wait(self, what: str, check, timeout: float = 600, interval: float = 2):
        """Call ``check`` until it returns something truthy; return that. A 404, and a server too busy
        to answer within the request's timeout (or restarting), count as not yet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if value := check():
                    return value
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
            except (TimeoutError, ConnectionError, urllib.error.URLError) as exc:
                print(f"waiting for {what}: the server did not answer ({exc}); asking again", flush=True)
            time.sleep(interval)
        raise TimeoutError(f"timed out waiting for {what}")
