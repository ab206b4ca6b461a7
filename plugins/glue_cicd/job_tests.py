"""Run a job's own pytest suite in a subprocess and summarise its JUnit XML."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

from glue_cicd import paths
from glue_cicd.errors import Refusal


class JobTestsFailed(Refusal):
    """The job's tests failed or could not run; the release stops."""


@dataclass(frozen=True)
class TestReport:
    """Counts from one pytest run of a job's tests."""

    __test__ = False  # not a pytest test class

    tests: int
    failures: int
    errors: int
    skipped: int
    seconds: float
    failed_tests: list[str]

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped

    @property
    def ok(self) -> bool:
        return self.tests > 0 and not self.failures and not self.errors

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed, "ok": self.ok}


def parse_junit(xml: bytes) -> TestReport:
    root = ET.fromstring(xml)
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    failed = [
        f"{case.get('classname')}::{case.get('name')}"
        for suite in suites
        for case in suite.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]
    return TestReport(
        tests=sum(int(s.get("tests", 0)) for s in suites),
        failures=sum(int(s.get("failures", 0)) for s in suites),
        errors=sum(int(s.get("errors", 0)) for s in suites),
        skipped=sum(int(s.get("skipped", 0)) for s in suites),
        seconds=round(sum(float(s.get("time", 0)) for s in suites), 2),
        failed_tests=failed,
    )


def job_tests_key(jobs_dir: Path, version: str) -> str:
    """What a job's test result depends on, as a short hash: the artifact version, every file of
    ``jobs_dir`` and of ``local_runtime`` (the tests' PYTHONPATH: they may import other jobs'
    modules), the Python and Java versions, and the installed packages."""
    from importlib.metadata import distributions

    digest = hashlib.sha256(version.encode() + b"\0")
    for root, label in ((jobs_dir, ""), (paths.LOCAL_RUNTIME_DIR, "local_runtime:")):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f"{label}{path.relative_to(root).as_posix()}".encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"{sys.version}\0{_java_version()}\0".encode())
    packages = sorted(f"{d.metadata['Name']}=={d.version}".lower() for d in distributions())
    digest.update("\n".join(packages).encode())
    return digest.hexdigest()[:12]


def _java_version() -> str:
    """``java -version`` of the Java that PySpark would start (JAVA_HOME, else PATH)."""
    java = Path(os.environ["JAVA_HOME"]) / "bin" / "java" if os.environ.get("JAVA_HOME") else shutil.which("java")
    if not java:
        return "no java"
    try:
        result = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except OSError as exc:
        return f"java unusable: {exc}"
    return result.stderr + result.stdout


def run_job_tests(job: str, jobs_dir: Path, workdir: Path, timeout: float = 1800) -> tuple[TestReport, bytes, str]:
    """Run ``<jobs_dir>/<job>/tests`` with pytest; return the report, the JUnit XML and the output tail."""
    # The jobs' code and glue_runtime, plus local_runtime (awsglue off Glue); never the pipeline's library.
    return run_pytest(job, jobs_dir / job, [jobs_dir, paths.LOCAL_RUNTIME_DIR], workdir, timeout)


def run_pytest(
    name: str, folder: Path, pythonpath: list[Path], workdir: Path, timeout: float = 1800
) -> tuple[TestReport, bytes, str]:
    """Run ``<folder>/tests`` with pytest on ``pythonpath`` alone; return the report, the JUnit XML
    and the output tail. ``name`` (a job or function) names it in errors."""
    tests = folder / "tests"
    if not tests.is_dir():
        raise JobTestsFailed(
            f"{tests}: {name} has no tests folder; every job and function needs tests/ with pytest tests"
        )
    junit = workdir / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    command = [
        sys.executable, "-m", "pytest", str(tests), f"--junitxml={junit}", "-v", "-p", "no:cacheprovider",
        "--import-mode=importlib", f"--rootdir={folder}", "-o", "addopts=", "-o", "testpaths=",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise JobTestsFailed(f"{name}'s tests did not finish within {timeout:.0f} s") from exc
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-40:])
    if not junit.exists():
        raise JobTestsFailed(f"{name}'s tests could not run (pytest exit code {result.returncode}):\n{tail}")
    return parse_junit(junit.read_bytes()), junit.read_bytes(), tail
