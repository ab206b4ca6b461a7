"""Lambda functions as release targets, the logic without AWS: the deployment package, its
artifact, the function's configuration per environment, smoke-test and bake verdicts.

The package is a zip of the function's folder (without ``tests/``, ``samples/`` and its spec) and
its pinned ``requirements`` (``pip install --no-deps`` for Linux x86_64 and the function's Python),
with fixed dates and sorted names, so the same sources give the same bytes and the same version.
"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from glue_cicd.build import ZIP_DATE, BuildError
from glue_cicd.content_artifacts import ContentArtifact
from glue_cicd.errors import Refusal
from glue_cicd.function_spec import FunctionSpec

NOT_SHIPPED = {"tests", "samples", "__pycache__", ".pytest_cache"}
LIVE_ALIAS = "live"


class SmokeTestFailed(Refusal):
    """A sample invocation failed or returned something else than expected."""


class CanaryFailed(Refusal):
    """The new version's errors during a bake exceeded the function's max_error_rate."""


class FunctionArtifact(ContentArtifact):
    """A built function package in the artifact store."""

    KIND = "lambda"
    FILE = "function.zip"

    @property
    def code_sha256(self) -> str:
        """The package's hash as Lambda reports it (``CodeSha256``: base64 of the SHA-256)."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "code_sha256": self.code_sha256}


def _install(requirements: list[str], runtime: str, target: Path) -> None:
    python = runtime.removeprefix("python")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-compile",
        "--only-binary=:all:",
        "--platform",
        "manylinux2014_x86_64",
        "--implementation",
        "cp",
        "--python-version",
        python,
        "--target",
        str(target),
        *requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise BuildError(
            f"cannot install the function's requirements {', '.join(requirements)}: {result.stderr.strip()[-1500:]}"
        )


def package_function(spec: FunctionSpec, folder: Path | None = None) -> bytes:
    """The deployment package of ``spec`` built from ``folder`` (default: the spec's own folder)."""
    folder = folder or spec.folder
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        shipped = not NOT_SHIPPED & set(relative.parts) and relative.as_posix() != "function.yaml"
        if path.is_file() and shipped and path.suffix not in (".pyc", ".pyo"):
            files[relative.as_posix()] = path.read_bytes()
    if spec.requirements:
        with tempfile.TemporaryDirectory() as target:
            _install(spec.requirements, spec.runtime, Path(target))
            for path in sorted(Path(target).rglob("*")):
                relative = path.relative_to(target)
                if path.is_file() and "__pycache__" not in relative.parts:
                    name = relative.as_posix()
                    if name in files:
                        raise BuildError(f"{folder.name}/{name} is also a file of its requirements")
                    files[name] = path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def configuration(spec: FunctionSpec, env) -> dict[str, Any]:
    """The function's whole configuration in ``env``, as ``UpdateFunctionConfiguration`` takes it."""
    return {
        "FunctionName": env.function_name(spec.name),
        "Runtime": spec.runtime,
        "Handler": spec.handler,
        "Role": spec.role_arn(env),
        "MemorySize": spec.memory_mb,
        "Timeout": spec.timeout_seconds,
        "Description": spec.description[:256],
        "Environment": {"Variables": spec.variables(env)},
    }


def fill(value: Any, env) -> Any:
    """A sample with ``{data_bucket}``, ``{artifact_bucket}`` and ``{environment}`` filled in."""
    if isinstance(value, str):
        for name in ("data_bucket", "artifact_bucket"):
            value = value.replace("{" + name + "}", getattr(env, name))
        return value.replace("{environment}", env.name)
    if isinstance(value, list):
        return [fill(v, env) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, env) for k, v in value.items()}
    return value


def smoke_problem(name: str, sample: dict[str, Any], payload: Any, function_error: str | None) -> str | None:
    """Why a sample's invocation failed (None: it passed)."""
    if function_error:
        error = payload if isinstance(payload, dict) else {}
        return f"sample {name}: {error.get('errorType', function_error)}: {error.get('errorMessage', payload)}"
    if "expect" in sample and payload != sample["expect"]:
        return f"sample {name}: returned {payload!r}, expected {sample['expect']!r}"
    return None


def bake_problem(invocations: float, errors: float, max_error_rate: float) -> str | None:
    """Why a bake fails (None: the new version's errors are within ``max_error_rate``)."""
    if invocations and errors / invocations > max_error_rate:
        return (
            f"{errors:.0f} of {invocations:.0f} calls to the new version failed "
            f"({errors / invocations:.1%}, allowed {max_error_rate:.1%})"
        )
    return None
