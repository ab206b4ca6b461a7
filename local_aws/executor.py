"""Local Glue executor: ``StartJobRun`` really runs the job's script on local PySpark.

A run fetches its script (and ``--extra-py-files`` / ``--extra-files``) from the emulator's S3,
runs it in a subprocess with its arguments as Glue passes them, and streams its stdout and
stderr to the CloudWatch log groups Glue uses. The script reaches S3 and the Glue Data Catalog
itself, as on Glue: its boto3 calls and its ``s3://`` reads and writes go to the emulator
(``AWS_ENDPOINT_URL``), so what a run writes lands when it writes it, and a run that fails
half-way leaves what it wrote, as on AWS.

The script's PYTHONPATH is its own folder, then the ``--extra-py-files``, then the repository's
``local_runtime`` folder (:data:`LOCAL_RUNTIME_DIR`): the ``awsglue`` API on local Spark (with
``s3://`` paths for Spark's readers and writers) and ``localglue``; real Glue never gets them.
Spark runs locally with the UI off, UTC and few shuffle partitions (:data:`SPARK_DEFAULTS`).

Job bookmarks (:class:`~local_aws.bookmarks.JobBookmarks`) are kept per job: each run gets the
job's bookmark in a file named by ``LOCALGLUE_BOOKMARK_FILE``, which its ``job.commit()`` rewrites.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from local_aws.bookmarks import BOOKMARK_ENV, JobBookmarks

log = logging.getLogger(__name__)

LOG_GROUP = "/aws-glue/jobs"
ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING"})
DEFAULT_TIMEOUT_MINUTES = 2880
# Local Spark for a job's own SparkContext (scripts create it before any of our code runs).
SPARK_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
}
# Importable by every run's script, after its own files (see the module docstring).
LOCAL_RUNTIME_DIR = Path(__file__).resolve().parents[1] / "local_runtime"
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?([A-Za-z_]\w*(?:Error|Exception|Exit))(?::\s*(.*))?$")


class ConcurrentRunsError(Exception):
    """The job already has ``MaxConcurrentRuns`` active runs."""


class RunNotFoundError(Exception):
    """No run with that id for that job."""


class RunFailure(Exception):
    """The run cannot proceed; the message becomes the run's ``ErrorMessage``."""


@dataclass
class JobRun:
    """One job run and what ``GetJobRun`` reports about it."""

    id: str
    job_name: str
    account: str
    region: str
    definition: dict[str, Any]
    arguments: dict[str, str]
    timeout_minutes: int
    state: str = "STARTING"
    error_message: str | None = None
    started_on: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_modified_on: datetime = field(default_factory=lambda: datetime.now(UTC))
    completed_on: datetime | None = None
    execution_time: int = 0
    stop_requested: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen | None = None
    thread: threading.Thread | None = None

    def set_state(self, state: str, error_message: str | None = None) -> None:
        self.state = state
        self.last_modified_on = datetime.now(UTC)
        if error_message:
            self.error_message = error_message
        if state not in ACTIVE_STATES:
            self.completed_on = self.last_modified_on
            self.execution_time = max(1, round((self.completed_on - self.started_on).total_seconds()))

    def as_dict(self) -> dict[str, Any]:
        """The run as Glue's ``JobRun`` structure."""
        definition = self.definition
        result: dict[str, Any] = {
            "Id": self.id,
            "Attempt": 0,
            "JobName": self.job_name,
            "JobMode": "SCRIPT",
            "StartedOn": self.started_on,
            "LastModifiedOn": self.last_modified_on,
            "JobRunState": self.state,
            "Arguments": self.arguments,
            "PredecessorRuns": [],
            "ExecutionTime": self.execution_time,
            "Timeout": self.timeout_minutes,
            "LogGroupName": LOG_GROUP,
            "GlueVersion": definition.get("GlueVersion") or "5.0",
        }
        for key in ("WorkerType", "NumberOfWorkers", "MaxCapacity"):
            if definition.get(key) is not None:
                result[key] = definition[key]
        if self.completed_on is not None:
            result["CompletedOn"] = self.completed_on
        if self.error_message:
            result["ErrorMessage"] = self.error_message
        return result


class LocalGlueExecutor:
    """Runs Glue job runs as local subprocesses and keeps their state.

    :param endpoint_url: the emulator's own endpoint; runs use it for S3 and CloudWatch Logs,
        and the job's own boto3 calls reach it through ``AWS_ENDPOINT_URL``.
    :param seconds_per_minute: real seconds in one minute of a job's ``Timeout``.
    :param workdir: parent folder of each run's working folder (a temporary folder if None).
    """

    def __init__(self, *, endpoint_url: str, seconds_per_minute: float = 60.0, workdir: Path | None = None):
        self.endpoint_url = endpoint_url
        self.seconds_per_minute = seconds_per_minute
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="glue-runs-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._runs: dict[tuple[str, str, str], list[JobRun]] = {}
        self._lock = threading.Lock()
        self.bookmarks = JobBookmarks()

    # -- API used by the Glue responses ------------------------------------------------------

    def start(
        self,
        *,
        account: str,
        region: str,
        definition: dict[str, Any],
        arguments: dict[str, str] | None,
        timeout_minutes: int | None,
    ) -> JobRun:
        """Start a run of ``definition`` (a ``GetJob`` structure) unless the job is at its limit."""
        name = definition["Name"]
        merged = dict(definition.get("DefaultArguments") or {})
        merged.update(arguments or {})
        merged.update(definition.get("NonOverridableArguments") or {})
        limit = (definition.get("ExecutionProperty") or {}).get("MaxConcurrentRuns") or 1
        with self._lock:
            runs = self._runs.setdefault((account, region, name), [])
            active = [r for r in runs if r.state in ACTIVE_STATES]
            if len(active) >= limit:
                raise ConcurrentRunsError(
                    f"Concurrent runs exceeded for {name}: {len(active)} active, MaxConcurrentRuns is {limit}"
                )
            run = JobRun(
                id="jr_" + uuid.uuid4().hex + uuid.uuid4().hex,
                job_name=name,
                account=account,
                region=region,
                definition=definition,
                arguments=merged,
                timeout_minutes=timeout_minutes or definition.get("Timeout") or DEFAULT_TIMEOUT_MINUTES,
            )
            runs.append(run)
        run.thread = threading.Thread(target=self._execute, args=(run,), name=run.id[:16], daemon=True)
        run.thread.start()
        return run

    def get(self, account: str, region: str, job_name: str, run_id: str) -> JobRun:
        for run in self._runs.get((account, region, job_name), []):
            if run.id == run_id:
                return run
        raise RunNotFoundError(f"Job run {run_id} of job {job_name} not found.")

    def runs_of(self, account: str, region: str, job_name: str) -> list[JobRun]:
        """Runs of a job, newest first."""
        return list(reversed(self._runs.get((account, region, job_name), [])))

    def stop(self, account: str, region: str, job_name: str, run_id: str) -> None:
        """Ask a run to stop; its subprocess is killed and the run ends STOPPED."""
        run = self.get(account, region, job_name, run_id)
        if run.state not in ACTIVE_STATES:
            raise RunFailure(f"Job run {run_id} is already {run.state}.")
        run.set_state("STOPPING")
        run.stop_requested.set()

    def shutdown(self) -> None:
        """Stop every active run (used when the emulator stops)."""
        runs = [r for group in self._runs.values() for r in group if r.state in ACTIVE_STATES]
        for run in runs:
            run.stop_requested.set()
        for run in runs:
            if run.thread is not None:
                run.thread.join(timeout=10)

    # -- one run ------------------------------------------------------------------------------

    def _client(self, service: str, region: str):
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 2}),
        )

    def _execute(self, run: JobRun) -> None:
        folder = Path(tempfile.mkdtemp(prefix=f"{run.job_name}-", dir=self.workdir))
        logs = _LogShipper(self._client("logs", run.region), run.id)
        try:
            state, message = self._run(run, folder, logs)
        except RunFailure as exc:
            state, message = "FAILED", str(exc)
        except Exception as exc:  # the emulator must report, never leave a run hanging
            log.exception("job run %s: emulator error", run.id)
            state, message = "FAILED", f"Local Glue executor error: {type(exc).__name__}: {exc}"
        # What job.commit() saved counts whatever the outcome, as on AWS: the run wrote what it read.
        self.bookmarks.record((run.account, run.region, run.job_name), run.id, folder / "bookmark.json")
        if message and state != "SUCCEEDED":
            logs.add("error", f"Job run {state}: {message}")
        logs.flush()  # before the terminal state: pollers read the logs once they see it
        run.set_state(state, message)
        run.process = None
        shutil.rmtree(folder, ignore_errors=True)

    def _run(self, run: JobRun, folder: Path, logs: _LogShipper) -> tuple[str, str | None]:
        s3 = self._client("s3", run.region)
        command = run.definition.get("Command") or {}
        if command.get("Name", "glueetl") == "glueetl" and not _java_available():
            raise RunFailure(
                "Java is not installed: no JAVA_HOME and no java on PATH. The local Glue executor "
                "runs Spark, which needs Java 17."
            )
        argv, pythonpath = prepare_command(s3, run.definition, run.arguments, folder, run.job_name, run.id)

        if run.stop_requested.is_set():
            return "STOPPED", None
        run.set_state("RUNNING")
        env = command_environment(pythonpath, self.endpoint_url, run.region)
        bookmark = folder / "bookmark.json"
        self.bookmarks.write_for_run((run.account, run.region, run.job_name), bookmark)
        env[BOOKMARK_ENV] = str(bookmark)
        process = subprocess.Popen(
            argv,
            cwd=folder / "work",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        run.process = process
        readers = [logs.follow("output", process.stdout), logs.follow("error", process.stderr)]
        deadline = time.monotonic() + run.timeout_minutes * self.seconds_per_minute - _age(run)
        outcome: tuple[str, str | None] | None = None
        while process.poll() is None:
            if run.stop_requested.is_set():
                outcome = ("STOPPED", None)
            elif time.monotonic() > deadline:
                outcome = ("TIMEOUT", f"Job run timed out after {run.timeout_minutes} minutes (Timeout).")
            if outcome:
                _kill(process)
                break
            logs.flush_if_due()
            time.sleep(0.1)
        for reader in readers:
            reader.join(timeout=10)
        if outcome:
            return outcome
        if process.returncode != 0:
            return "FAILED", _error_message(logs.lines("error"), process.returncode)
        return "SUCCEEDED", None


def prepare_command(
    s3, definition: dict[str, Any], arguments: dict[str, str], folder: Path, job_name: str, run_id: str
) -> tuple[list[str], list[str]]:
    """The command line of a run and its PYTHONPATH, with the run's files under ``folder``.

    Downloads the script and ``--extra-py-files`` / ``--extra-files``; the arguments are passed
    as given (``s3://`` URIs stay URIs). The PYTHONPATH is the script's folder, the extra Python
    files, then :data:`LOCAL_RUNTIME_DIR`.
    """
    command = definition.get("Command") or {}
    script = _download_file(s3, command.get("ScriptLocation") or "", folder / "script", "ScriptLocation")
    pythonpath = [str(script.parent)]
    for uri in _split(arguments.get("--extra-py-files")):
        pythonpath.append(str(_download_file(s3, uri, folder / "py", "--extra-py-files")))
    pythonpath.append(str(LOCAL_RUNTIME_DIR))
    for uri in _split(arguments.get("--extra-files")):
        _download_file(s3, uri, folder / "work", "--extra-files")
    argv = [sys.executable, str(script), "--JOB_ID", f"j_{job_name}", "--JOB_RUN_ID", run_id, "--JOB_NAME", job_name]
    # Glue always passes the bookmark option, job-bookmark-disable unless the run says otherwise.
    argv += ["--job-bookmark-option", arguments.get("--job-bookmark-option", "job-bookmark-disable")]
    for key, value in arguments.items():
        if key not in ("--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--job-bookmark-option"):
            argv += [key, value]
    (folder / "work").mkdir(exist_ok=True)
    return argv, pythonpath


def command_environment(pythonpath: list[str], endpoint_url: str, region: str) -> dict[str, str]:
    """The environment of a run: local Spark, and boto3 calls of the job sent to the emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON", "PYSPARK"))}
    env.update(
        PYTHONPATH=os.pathsep.join(pythonpath),
        PYTHONUNBUFFERED="1",
        PYSPARK_PYTHON=sys.executable,
        SPARK_LOCAL_IP="127.0.0.1",
        AWS_ENDPOINT_URL=endpoint_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
        PYSPARK_SUBMIT_ARGS=" ".join(f"--conf {k}={v}" for k, v in SPARK_DEFAULTS.items()) + " pyspark-shell",
    )
    return env


class _LogShipper:
    """Sends a run's driver output to ``/aws-glue/jobs/{output,error}``, stream = run id."""

    def __init__(self, client, run_id: str):
        self.client = client
        self.run_id = run_id
        self._pending: dict[str, list[dict]] = {"output": [], "error": []}
        self._all: dict[str, list[str]] = {"output": [], "error": []}
        self._lock = threading.Lock()
        self._created: set[str] = set()
        self._last_flush = time.monotonic()

    def add(self, stream: str, line: str) -> None:
        with self._lock:
            self._all[stream].append(line)
            # CloudWatch refuses empty messages.
            self._pending[stream].append({"timestamp": int(time.time() * 1000), "message": line or " "})

    def lines(self, stream: str) -> list[str]:
        with self._lock:
            return list(self._all[stream])

    def follow(self, stream: str, pipe) -> threading.Thread:
        def read() -> None:
            for line in pipe:
                self.add(stream, line.rstrip("\n"))
            pipe.close()

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread

    def flush_if_due(self) -> None:
        if time.monotonic() - self._last_flush >= 1.0:
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        for suffix in ("output", "error"):
            with self._lock:
                events, self._pending[suffix] = self._pending[suffix], []
            if not events:
                continue
            group = f"{LOG_GROUP}/{suffix}"
            try:
                self._ensure_stream(group)
                for start in range(0, len(events), 5000):
                    self.client.put_log_events(
                        logGroupName=group, logStreamName=self.run_id, logEvents=events[start : start + 5000]
                    )
            except (BotoCoreError, ClientError):
                log.exception("job run %s: cannot write logs to %s", self.run_id, group)

    def _ensure_stream(self, group: str) -> None:
        if group in self._created:
            return
        for call, kwargs in (
            (self.client.create_log_group, {"logGroupName": group}),
            (self.client.create_log_stream, {"logGroupName": group, "logStreamName": self.run_id}),
        ):
            try:
                call(**kwargs)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                    raise
        self._created.add(group)


def _age(run: JobRun) -> float:
    return (datetime.now(UTC) - run.started_on).total_seconds()


def _java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and Path(java_home, "bin", "java").exists():
        return True
    return shutil.which("java") is not None


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _parse_s3_uri(uri: str, what: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise RunFailure(f"{what} must be an s3:// URI, got {uri!r}.")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _download_file(s3, uri: str, folder: Path, what: str) -> Path:
    bucket, key = _parse_s3_uri(uri, what)
    target = folder / Path(key).name
    folder.mkdir(parents=True, exist_ok=True)
    try:
        s3.download_file(bucket, key, str(target))
    except ClientError as exc:
        code = exc.response["Error"].get("Code")
        raise RunFailure(f"{what} {uri} cannot be read: {code} (the object or bucket does not exist).") from exc
    return target


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _error_message(stderr: list[str], returncode: int) -> str:
    """The script's exception as Glue reports it (``ValueError: ...``), else the exit code."""
    for line in reversed(stderr):
        match = _EXCEPTION_LINE.match(line.strip())
        if match:
            name, text = match.groups()
            return f"{name}: {text}" if text else name
    tail = next((line.strip() for line in reversed(stderr) if line.strip()), "")
    return f"The job script exited with code {returncode}" + (f": {tail}" if tail else ".")
