"""Local Lambda executor: ``Invoke`` really runs the function's handler.

Each invocation unpacks the version's deployment package (once per ``CodeSha256``) and runs
:mod:`local_aws.lambda_bootstrap` in a fresh Python process in that folder, with the function's
environment variables and the variables AWS's runtime sets, for at most the function's
``Timeout``. Like AWS's Python runtime it sees the package, then the runtime's own libraries
(boto3 and its dependencies, :data:`RUNTIME_LIBRARIES`), and nothing else of this process: a
handler that imports a library its package lacks fails as it would on AWS. Its boto3 calls go to
the emulator (``AWS_ENDPOINT_URL``).

What AWS reports is reported: the handler's error document with ``FunctionError: Unhandled``,
``Sandbox.Timedout`` for a timeout, ``X-Amz-Executed-Version``; the log (START, output, END,
REPORT) goes to ``/aws/lambda/<function>``, and ``Invocations``, ``Errors`` and ``Duration`` to
CloudWatch's ``AWS/Lambda`` namespace with AWS's dimensions (``FunctionName``; with a qualifier,
``Resource``; through an alias, ``ExecutedVersion`` too).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

log = logging.getLogger(__name__)

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# What AWS's Python runtimes provide besides the standard library.
RUNTIME_LIBRARIES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
LOG_TAIL_BYTES = 4096


@dataclass(frozen=True)
class Invocation:
    """One invocation's result, as ``Invoke`` reports it."""

    payload: bytes
    function_error: str | None
    executed_version: str
    log_tail: str


class LocalLambdaExecutor:
    """Runs handlers for the emulator at ``endpoint_url``; packages are unpacked under ``workdir``."""

    def __init__(self, *, endpoint_url: str, workdir: Path | None = None):
        self.endpoint_url = endpoint_url
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="local-lambda-"))
        self._lock = threading.Lock()
        self._runtime = self._runtime_libraries()

    def invoke(self, function: Any, *, resource: str | None, alias: bool, payload: bytes) -> Invocation:
        """Run ``function`` (moto's ``LambdaFunction`` of the version that serves the call) on
        ``payload``. ``resource`` is ``<name>:<qualifier>`` when the caller gave a qualifier,
        ``alias`` whether that qualifier is an alias."""
        request_id = str(uuid.uuid4())
        version = str(function.version)
        code = self._unpacked(function.code_bytes, function.code_sha_256)
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"
        with tempfile.TemporaryDirectory(dir=self.workdir) as scratch:
            result_file = Path(scratch) / "result.json"
            timeout = float(function.timeout)
            env = self._environment(function, request_id, stream, resource, result_file, time.time() + timeout)
            started = time.monotonic()
            try:
                process = subprocess.run(
                    [sys.executable, "-I", "-S", str(BOOTSTRAP), function.handler or ""],
                    input=payload.decode("utf-8", "replace"),
                    cwd=code,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                )
                output = process.stdout + process.stderr
                outcome = json.loads(result_file.read_text()) if result_file.exists() else None
                if outcome is None:
                    outcome = _failure(
                        "Runtime.ExitError",
                        f"RequestId: {request_id} Error: Runtime exited with error: exit status {process.returncode}",
                    )
            except subprocess.TimeoutExpired as exc:
                output = _text(exc.stdout) + _text(exc.stderr)
                outcome = _failure(
                    "Sandbox.Timedout", f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
                )
            duration_ms = (time.monotonic() - started) * 1000
        lines = [
            f"START RequestId: {request_id} Version: {version}",
            *output.splitlines(),
            f"END RequestId: {request_id}",
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: "
            f"{max(1, round(duration_ms))} ms\tMemory Size: {function.memory_size} MB",
        ]
        failed = not outcome["ok"]
        self._ship_logs(function, stream, lines)
        self._put_metrics(function, resource, alias, version, failed, duration_ms)
        body = outcome["error"] if failed else outcome["payload"]
        tail = "\n".join(lines).encode()[-LOG_TAIL_BYTES:].decode("utf-8", "replace")
        return Invocation(json.dumps(body).encode(), "Unhandled" if failed else None, version, tail)

    # -- the process ------------------------------------------------------------------------------

    def _environment(
        self, function: Any, request_id: str, stream: str, resource: str | None, result: Path, deadline: float
    ) -> dict[str, str]:
        name, region = function.function_name, function.region
        invoked = (
            function.function_arn.rsplit(":", 1)[0] if str(function.version) != "$LATEST" else function.function_arn
        )
        env = {
            **{str(k): str(v) for k, v in (function.environment_vars or {}).items()},
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(self._unpacked(function.code_bytes, function.code_sha_256)),
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time or 'python3.11'}",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "LOCAL_LAMBDA_INVOKED_ARN": f"{invoked}:{resource.split(':', 1)[1]}" if resource else invoked,
            "LOCAL_LAMBDA_REQUEST_ID": request_id,
            "LOCAL_LAMBDA_RESULT": str(result),
            "LOCAL_LAMBDA_DEADLINE": str(deadline),
            "LOCAL_LAMBDA_PATH": str(self._runtime),
        }
        return env

    def _unpacked(self, code: bytes, sha: str) -> Path:
        """The package's folder, unpacked once per content hash."""
        folder = self.workdir / "code" / sha.replace("/", "_").replace("+", "-").rstrip("=")
        with self._lock:
            if not folder.is_dir():
                partial = folder.with_name(folder.name + ".partial")
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    archive.extractall(partial)
                partial.rename(folder)
        return folder

    def _runtime_libraries(self) -> Path:
        """A folder holding links to :data:`RUNTIME_LIBRARIES` only."""
        folder = self.workdir / "runtime"
        folder.mkdir(parents=True, exist_ok=True)
        for name in RUNTIME_LIBRARIES:
            spec = importlib.util.find_spec(name)
            if spec is None:
                continue
            source = (
                Path(next(iter(spec.submodule_search_locations)))
                if spec.submodule_search_locations
                else Path(spec.origin)
            )
            link = folder / source.name
            if not link.exists():
                link.symlink_to(source)
        return folder

    # -- what AWS records ------------------------------------------------------------------------

    def _client(self, service: str, region: str):
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 2}),
        )

    def _ship_logs(self, function: Any, stream: str, lines: list[str]) -> None:
        group = f"/aws/lambda/{function.function_name}"
        logs = self._client("logs", function.region)
        now = int(time.time() * 1000)
        try:
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=group)
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": now, "message": line} for line in lines],
            )
        except Exception:  # the invocation's result stands without its log
            log.exception("cannot write the log of %s to %s", function.function_name, group)

    def _put_metrics(
        self, function: Any, resource: str | None, alias: bool, version: str, failed: bool, duration_ms: float
    ) -> None:
        name = function.function_name
        dimension_sets = [[{"Name": "FunctionName", "Value": name}]]
        if resource:
            dimension_sets.append([*dimension_sets[0], {"Name": "Resource", "Value": resource}])
            if alias:
                dimension_sets.append([*dimension_sets[1], {"Name": "ExecutedVersion", "Value": version}])
        values = (
            ("Invocations", 1.0, "Count"),
            ("Errors", float(failed), "Count"),
            ("Duration", duration_ms, "Milliseconds"),
        )
        data = [
            {"MetricName": metric, "Dimensions": dims, "Value": value, "Unit": unit, "Timestamp": datetime.now(UTC)}
            for dims in dimension_sets
            for metric, value, unit in values
        ]
        try:
            self._client("cloudwatch", function.region).put_metric_data(Namespace="AWS/Lambda", MetricData=data)
        except Exception:  # the invocation's result stands without its metrics
            log.exception("cannot put the metrics of %s", name)


def _failure(kind: str, message: str) -> dict:
    return {"ok": False, "error": {"errorMessage": message, "errorType": kind}}


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""
