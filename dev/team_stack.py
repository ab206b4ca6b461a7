"""docker-compose.yaml's team stack without containers: Postgres and Redis from Debian's packages,
and each long-running Airflow service as a process with the compose file's command and environment.

The commands and environments are read from docker-compose.yaml (``x-airflow-common`` merged with
each service's own). Only what must differ outside containers differs (:func:`service_env`):

- ``${VAR:?...}`` and ``${VAR:-default}`` are interpolated from ``variables`` (what .env holds);
  a required variable not given (the secrets) gets a fresh random key, ``$$`` is ``$``;
- ``/opt/airflow`` (the image's project root) is the checkout; ``AIRFLOW_HOME`` is a temp dir;
- the hosts ``postgres``, ``redis``, ``aws-emulator`` and ``airflow-apiserver`` are ``127.0.0.1`` on
  the stack's ports;
- the ports each container had to itself are free ports: the api-server's (which compose maps,
  ``AIRFLOW__API__PORT``), the scheduler's health check and the worker's and triggerer's log servers;
- container-only variables (``AIRFLOW_UID``, ``DUMB_INIT_SETSID``) are dropped.

The image's entrypoint runs a command as ``airflow <command>``: so does the stack, with this
virtualenv's ``airflow``; airflow-init's ``_AIRFLOW_DB_MIGRATE`` is ``airflow db migrate``. The
aws-emulator service's connection secret is stored in the emulator the stack is given.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from dev import PROJECT_DIR
from dev.local_airflow import AIRFLOW, free_port

log = logging.getLogger(__name__)

COMPOSE_FILE = PROJECT_DIR / "docker-compose.yaml"
IMAGE_PROJECT_DIR = "/opt/airflow"
# The compose file's long-running Airflow services, in the order they start.
COMPONENTS = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker")
# Services the Airflow environment names as hosts: 127.0.0.1 on the stack's ports.
HOSTS = ("postgres", "redis", "aws-emulator", "airflow-apiserver")
# Airflow's defaults that each container had to itself: free ports here.
OWN_PORTS = (
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
)
CONTAINER_ONLY = ("AIRFLOW_UID", "DUMB_INIT_SETSID")
POSTGRES_USER = "postgres"  # Debian's: Postgres runs as it when the stack runs as root
INTERPOLATION = re.compile(r"\$(?:(\$)|\{([A-Za-z_]\w*)(?:(:?)([-?])([^}]*))?\}|([A-Za-z_]\w*))")
HOST = re.compile(rf"(?<=[/@])({'|'.join(map(re.escape, HOSTS))})(?::\d+)?(?=[/\"'\s]|$)")


class StackError(RuntimeError):
    """A part of the stack did not start or answer in time (the message has its log's tail)."""


# --- the compose file, as the stack runs it ----------------------------------------------------------


def compose_services(path: Path = COMPOSE_FILE) -> dict[str, dict]:
    """The compose file's services, YAML anchors and ``<<`` merge keys resolved."""
    return yaml.safe_load(path.read_text())["services"]


def interpolate(value: str, variables: dict[str, str]) -> str:
    """``value`` with compose's interpolation: ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``."""

    def resolve(match: re.Match) -> str:
        escaped, braced, colon, operator, argument, bare = match.groups()
        name = braced or bare
        if escaped:
            return "$"
        given = variables.get(name)
        unset = given is None or (colon == ":" and given == "")
        if operator == "-" and unset:
            return argument
        if operator == "?" and unset:
            raise StackError(f"{name}: {argument or 'not set'}")
        return given or ""

    return INTERPOLATION.sub(resolve, str(value))


def required_variables(services: dict[str, dict]) -> set[str]:
    """Names the Airflow services require (``${VAR:?...}``): the secrets .env must fill in."""
    names = set()
    for name in COMPONENTS:
        for value in services[name].get("environment", {}).values():
            names |= {m[1] for m in INTERPOLATION.findall(str(value)) if m[3] == "?"}
    return names


def generated_secrets(names: set[str]) -> dict[str, str]:
    """A fresh key per name: 32 random bytes, URL-safe base64 (a valid Fernet key, and a good secret)."""
    return {name: base64.urlsafe_b64encode(os.urandom(32)).decode() for name in sorted(names)}


def relocate(value: str, ports: dict[str, int]) -> str:
    """``value`` outside containers: the checkout for ``/opt/airflow``, 127.0.0.1 for the services."""
    value = HOST.sub(lambda match: f"127.0.0.1:{ports[match[1]]}", value)
    return value.replace(IMAGE_PROJECT_DIR, str(PROJECT_DIR))


def service_env(
    service: str, *, home: Path, ports: dict[str, int], variables: dict[str, str], services: dict | None = None
) -> dict[str, str]:
    """The service's compose environment with the documented substitutions (see the module).

    :param ports: a port for each of :data:`HOSTS` and :data:`OWN_PORTS`.
    :param variables: what .env would hold, at least every required variable.
    """
    services = services or compose_services()
    env = {
        name: relocate(interpolate(value, variables), ports)
        for name, value in services[service].get("environment", {}).items()
        if name not in CONTAINER_ONLY
    }
    env["AIRFLOW_HOME"] = str(home)
    env["AIRFLOW__API__PORT"] = str(ports["airflow-apiserver"])
    env.update({name: str(ports[name]) for name in OWN_PORTS})
    return env


def service_command(service: str, services: dict | None = None) -> list[str]:
    """The service's command as the image's entrypoint runs it: ``airflow <command>``."""
    command = (services or compose_services())[service]["command"]
    return [AIRFLOW, *(shlex.split(command) if isinstance(command, str) else command)]


def users(services: dict | None = None) -> dict[str, str]:
    """The simple auth manager's users, ``{name: role}``, from the compose environment."""
    value = (services or compose_services())["airflow-apiserver"]["environment"][
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"
    ]
    return dict(user.split(":", 1) for user in value.split(","))


def connection_secret(services: dict | None = None) -> tuple[str, str]:
    """The secret the aws-emulator service stores: (its name, the connection's endpoint as in compose)."""
    from dev.emulator import parse_args

    command = (services or compose_services())["aws-emulator"]["command"]
    args, _ = parse_args(command[3:])
    return args.aws_connection_secret, args.aws_connection_endpoint


# --- processes ----------------------------------------------------------------------------------------


def session_members(sid: int) -> list[int]:
    """Live processes of the session ``sid`` (what a container holds: reparenting does not leave it)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            state, _ppid, _pgrp, session = stat.read_text().rpartition(")")[2].split()[:4]
            if int(session) == sid and state != "Z":
                members.append(int(stat.parent.name))
    return members


def signal_each(pids: set[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def log_tail(path: Path, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


class Process:
    """A child in its own session, its output in ``log_file``; stopping it stops all it started.

    :param user: run as this user when root (Postgres refuses root).
    :param stop_signal: what ``docker stop`` would send (Postgres' image: SIGINT, a fast shutdown).
    """

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log_file: Path, *, user: str | None = None,
        stop_signal: int = signal.SIGTERM,
    ):  # fmt: skip
        self.name, self.argv, self.env, self.log_file = name, argv, env, log_file
        self.user = user
        self.stop_signal = stop_signal
        self.started_at: datetime | None = None
        self._popen: subprocess.Popen | None = None

    def start(self) -> Process:
        with self.log_file.open("ab") as output:
            self._popen = subprocess.Popen(
                self.argv, env=self.env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, **as_user(self.user),
            )  # fmt: skip
        self.started_at = datetime.now(UTC)
        log.info("started %s (pid %s), log %s", self.name, self._popen.pid, self.log_file)
        return self

    def exited(self) -> bool:
        return self._popen is None or self._popen.poll() is not None

    def terminate(self) -> None:
        """Send the stop signal to the process group (as ``docker stop`` does through dumb-init)."""
        if not self.exited():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._popen.pid, self.stop_signal)

    def kill(self) -> None:
        """SIGKILL every process of its session, as when a container is killed. All are frozen
        first (SIGSTOP), so none finishes its work or starts another process meanwhile."""
        if self._popen is None:
            return
        frozen: set[int] = set()
        for _ in range(50):
            if not (found := set(session_members(self._popen.pid)) - frozen):
                break
            signal_each(found, signal.SIGSTOP)
            frozen |= found
        for _ in range(50):
            if not (found := set(session_members(self._popen.pid))):
                break
            signal_each(found, signal.SIGKILL)
            time.sleep(0.1)
        self._popen.wait()
        log.info("%s is stopped", self.name)

    def stop(self, deadline: float) -> None:
        """Wait for it to exit until ``deadline`` (monotonic), then SIGKILL what is left."""
        if self._popen is not None and not self.exited():
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        self.kill()

    def check_alive(self) -> None:
        if self.exited():
            raise StackError(f"{self.name} exited (code {self._popen.returncode}):\n{log_tail(self.log_file)}")


def as_user(user: str | None) -> dict:
    """Popen arguments that run a child as ``user`` (its group, no supplementary groups) when root."""
    if user is None or os.geteuid() != 0:
        return {}
    return {"user": user, "group": user, "extra_groups": []}


def wait_for(what: str, check, process: Process, timeout: float, interval: float = 1.0):
    """Call ``check`` until it returns something truthy; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.check_alive()
        with contextlib.suppress(OSError, ValueError, subprocess.SubprocessError):
            if result := check():
                return result
        time.sleep(interval)
    raise StackError(f"{what} within {timeout:.0f} s; {process.name}'s log:\n{log_tail(process.log_file)}")


def http_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def http_ok(url: str) -> bool:
    """``curl --fail``: any answer below 400 (urllib raises on the others)."""
    with urllib.request.urlopen(url, timeout=5):
        return True


def distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return list(ports)


def postgres_bin() -> Path:
    """The newest installed Postgres' binaries (Debian: /usr/lib/postgresql/<version>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise StackError("Postgres is not installed: `make team-stack-deps` installs Debian's postgresql")
    return found[-1].parent


# --- the stack ----------------------------------------------------------------------------------------


class TeamStack:
    """docker-compose.yaml's Airflow (CeleryExecutor, Postgres, Redis) as processes, against an
    emulator already running. A context manager; everything is stopped in bounded time.

    Attributes: ``url`` (the API server), ``env`` (the Airflow services' common environment),
    ``home`` (AIRFLOW_HOME), ``logs`` (one log file per process), ``users`` (``{name: role}``);
    :meth:`passwords`, :meth:`restart`, :meth:`kill`, :meth:`wait_healthy`.

    :param root: a folder for the stack's state and logs.
    :param emulator_url: the AWS emulator the aws-emulator service stands for.
    :param variables: what .env would hold; missing secrets are generated.
    """

    def __init__(self, root: Path, emulator_url: str, *, variables: dict[str, str] | None = None, timeout: float = 240):
        self.services = compose_services()
        self.emulator_url = emulator_url
        self.timeout = timeout
        self.home, self.logs = root / "airflow", root / "logs"
        self.users = users(self.services)
        names = (*HOSTS, *OWN_PORTS)
        self.ports = dict(zip(names, distinct_free_ports(len(names)), strict=True))
        self.ports["aws-emulator"] = urlsplit(emulator_url).port
        self._variables = {
            **generated_secrets(required_variables(self.services)),
            # .env's port of the UI on the host: here, the API server's own (the UI's base_url).
            "GLUE_CICD_AIRFLOW_PORT": str(self.ports["airflow-apiserver"]),
            **(variables or {}),
        }
        self.components = {name: self._component(name) for name in COMPONENTS}
        # x-airflow-common's environment (the api-server adds nothing to it).
        self.env = self.components["airflow-apiserver"].env
        self.url = f"http://localhost:{self.ports['airflow-apiserver']}"  # as AIRFLOW__API__BASE_URL says
        self._pg_dir: Path | None = None
        self._backing: dict[str, Process] = {}

    def _component(self, name: str) -> Process:
        env = service_env(name, home=self.home, ports=self.ports, variables=self._variables, services=self.services)
        return Process(
            name, service_command(name, self.services), {**inherited_env(), **env}, self.logs / f"{name}.log"
        )

    def __enter__(self) -> TeamStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> TeamStack:
        """Postgres, Redis, the connection secret, ``airflow db migrate``, then every component, healthy."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            self._start_postgres()
            self._start_redis()
            self._store_connection_secret()
            self._migrate()
            for process in self.components.values():
                process.start()
            for name in COMPONENTS:
                self.wait_healthy(name)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop the components, then Redis and Postgres: their stop signal, then SIGKILL after
        ``timeout`` (``docker stop``'s default)."""
        for group in (self.components, self._backing):
            for process in group.values():
                process.terminate()
            deadline = time.monotonic() + timeout
            for process in group.values():
                process.stop(deadline)
        if self._pg_dir is not None:
            shutil.rmtree(self._pg_dir, ignore_errors=True)
            self._pg_dir = None

    # --- Airflow components

    def restart(self, name: str, timeout: float = 10) -> None:
        """``docker restart``: SIGTERM, SIGKILL after ``timeout``; then start it and wait until healthy."""
        process = self.components[name]
        process.terminate()
        process.stop(time.monotonic() + timeout)
        process.start()
        self.wait_healthy(name)

    def kill(self, name: str) -> None:
        """SIGKILL the component and everything it started (its tasks too), as a killed container."""
        self.components[name].kill()

    def start_component(self, name: str) -> None:
        """Start a killed component again and wait until it is healthy."""
        self.components[name].start()
        self.wait_healthy(name)

    def wait_healthy(self, name: str) -> None:
        """Wait until the component answers its health check (as compose's), as the process started last."""
        process = self.components[name]
        since = process.started_at
        checks = {
            "airflow-apiserver": lambda: http_json(f"{self.url}/api/v2/monitor/health"),
            "airflow-scheduler": lambda: http_ok(self._scheduler_health_url()),
            "airflow-dag-processor": lambda: self._heartbeat_since("dag_processor", since),
            "airflow-triggerer": lambda: self._heartbeat_since("triggerer", since),
            "airflow-worker": self._worker_answers_ping,
        }
        wait_for(f"{name} was not healthy", checks[name], process, self.timeout, interval=2)
        log.info("%s is healthy", name)

    def passwords(self) -> dict[str, str]:
        """The generated passwords of :attr:`users` (the API server writes them when it starts)."""
        return json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())

    def _scheduler_health_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT']}/health"

    def _heartbeat_since(self, component: str, since: datetime) -> bool:
        health = http_json(f"{self.url}/api/v2/monitor/health").get(component) or {}
        beat = health.get(f"latest_{component}_heartbeat")
        return health.get("status") == "healthy" and beat is not None and datetime.fromisoformat(beat) >= since

    def _worker_answers_ping(self) -> bool:
        """Compose's healthcheck of airflow-worker, ``celery inspect ping -d celery@<host>``, in process."""
        from celery import Celery

        app = Celery(broker=self.env["AIRFLOW__CELERY__BROKER_URL"])
        try:
            return bool(app.control.ping(destination=[f"celery@{socket.gethostname()}"], timeout=2))
        finally:
            app.close()

    # --- what the other services of the compose file provide

    def _migrate(self) -> None:
        """airflow-init: ``airflow db migrate`` (its ``_AIRFLOW_DB_MIGRATE``)."""
        log_file = self.logs / "airflow-init.log"
        with log_file.open("ab") as output:
            result = subprocess.run(
                [AIRFLOW, "db", "migrate"], env=self.env, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, timeout=self.timeout,
            )  # fmt: skip
        if result.returncode != 0:
            raise StackError(f"airflow db migrate failed (code {result.returncode}):\n{log_tail(log_file)}")

    def _store_connection_secret(self) -> None:
        """What the aws-emulator service does when it starts: store Airflow's AWS connection."""
        from dev.emulator import store_connection_secret

        name, endpoint = connection_secret(self.services)
        store_connection_secret(self.emulator_url, name, relocate(endpoint, self.ports))

    def _start_postgres(self) -> None:
        """The postgres service: POSTGRES_USER (superuser) and POSTGRES_DB, password POSTGRES_PASSWORD."""
        settings = self.services["postgres"]["environment"]
        user, password, database = settings["POSTGRES_USER"], settings["POSTGRES_PASSWORD"], settings["POSTGRES_DB"]
        binaries, port = postgres_bin(), self.ports["postgres"]
        # Under /tmp, not root's folders: the postgres user must reach it.
        self._pg_dir = Path(tempfile.mkdtemp(prefix="team-stack-postgres-"))
        (self._pg_dir / "password").write_text(password)
        if os.geteuid() == 0:
            for path in (self._pg_dir, self._pg_dir / "password"):
                shutil.chown(path, POSTGRES_USER, POSTGRES_USER)
        data = self._pg_dir / "data"
        password_file = self._pg_dir / "password"
        initdb = [str(binaries / "initdb"), "-D", str(data), "-U", user, f"--pwfile={password_file}",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
                  "--no-sync"]  # fmt: skip
        self._run_as_postgres("initdb", initdb)
        # Like the image's tmpfs: nothing needs to survive a crash.
        server = [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-k", str(self._pg_dir),
                  "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                  "-c", "full_page_writes=off"]  # fmt: skip
        process = self._backing["postgres"] = Process(
            "postgres",
            server,
            inherited_env(),
            self.logs / "postgres.log",
            user=POSTGRES_USER,
            stop_signal=signal.SIGINT,
        ).start()
        ready = [str(binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", user]
        is_ready = lambda: subprocess.run(ready, capture_output=True, timeout=10).returncode == 0  # noqa: E731
        wait_for("postgres was not ready", is_ready, process, 60, interval=0.5)
        createdb = [str(binaries / "createdb"), "-h", str(self._pg_dir), "-p", str(port), "-U", user, database]
        self._run_as_postgres("createdb", createdb)

    def _run_as_postgres(self, what: str, argv: list[str]) -> None:
        log_file = self.logs / "postgres.log"
        with log_file.open("ab") as output:
            result = subprocess.run(
                argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=inherited_env(),
                timeout=120, **as_user(POSTGRES_USER),
            )  # fmt: skip
        if result.returncode != 0:
            raise StackError(f"{what} failed (code {result.returncode}):\n{log_tail(log_file)}")

    def _start_redis(self) -> None:
        """The redis service's command, on the stack's port and a folder of its own."""
        redis_server, *args = self.services["redis"]["command"]
        if not shutil.which(redis_server):
            raise StackError("redis-server is not installed: `make team-stack-deps` installs Debian's redis-server")
        folder = self.logs.parent / "redis"
        folder.mkdir(exist_ok=True)
        argv = [redis_server, *args, "--port", str(self.ports["redis"]), "--bind", "127.0.0.1", "--dir", str(folder)]
        process = self._backing["redis"] = Process("redis", argv, inherited_env(), self.logs / "redis.log").start()
        wait_for("redis did not answer PING", lambda: redis_ping(self.ports["redis"]), process, 30, interval=0.2)


def redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        connection.sendall(b"PING\r\n")
        return connection.recv(16).startswith(b"+PONG")


def inherited_env() -> dict[str, str]:
    """What the image provides beside the compose environment: this machine's environment without
    Airflow's and AWS's variables, this virtualenv's ``airflow`` and ``celery`` first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_", "GLUE_CICD_"))}
    env["PATH"] = os.pathsep.join([str(Path(AIRFLOW).parent), os.environ.get("PATH", "")])
    return env
