"""Package a job into an immutable, content-versioned artifact (published by
:class:`glue_cicd.hooks.artifacts.ArtifactStoreHook`).

The artifact is ``job.py`` (Glue's ``ScriptLocation``) and ``libs.zip`` (the job's package and
``glue_runtime``, Glue's ``--extra-py-files``), under ``s3://<bucket>/<job>/<version>/`` with a
``manifest.json``. The version is a hash of the files, so the same sources always give the same
version; uploading a version that exists with other bytes is refused, the same bytes are a no-op.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import socket
import subprocess
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from glue_cicd.errors import Refusal
from glue_cicd.paths import JOBS_DIR, PROJECT_DIR

RUNTIME_PACKAGE = "glue_runtime"
EXCLUDED_PARTS = {"tests", "__pycache__", ".pytest_cache"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class BuildError(Refusal):
    """The artifact cannot be built or published."""


@dataclass(frozen=True)
class Package:
    """A built job: its entry script, its libraries zip and the hash of every file in them."""

    job: str
    script: bytes
    libs: bytes
    files: dict[str, str]

    @property
    def sha256(self) -> str:
        """The artifact's identity: a hash over both uploaded objects."""
        return artifact_sha256(self.script, self.libs)

    @property
    def version(self) -> str:
        return self.sha256[:12]


@dataclass(frozen=True)
class Artifact:
    """Where a published version lives, and what it is."""

    job: str
    version: str
    sha256: str
    bucket: str
    git_sha: str | None = None

    @property
    def prefix(self) -> str:
        return f"{self.job}/{self.version}/"

    @property
    def script_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}job.py"

    @property
    def libs_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}libs.zip"

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def to_dict(self) -> dict[str, str | None]:
        return {**asdict(self), "uri": self.uri, "script_uri": self.script_uri, "libs_uri": self.libs_uri}


def artifact_sha256(script: bytes, libs: bytes) -> str:
    digest = hashlib.sha256()
    for name, body in (("job.py", script), ("libs.zip", libs)):
        digest.update(f"{name}:{hashlib.sha256(body).hexdigest()}\n".encode())
    return digest.hexdigest()


def _package_files(root: Path, package: str) -> list[Path]:
    folder = root / package
    if not folder.is_dir():
        raise BuildError(f"{folder}: the package folder does not exist")
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not EXCLUDED_PARTS & set(path.relative_to(root).parts)
        and path.suffix not in (".pyc", ".pyo")
    )


def package_job(job: str, jobs_dir: Path = JOBS_DIR) -> Package:
    """Zip the job's package and ``glue_runtime`` reproducibly (fixed dates, sorted names)."""
    script_path = jobs_dir / job / "job.py"
    try:
        script = script_path.read_bytes()
    except OSError as exc:
        raise BuildError(f"{script_path}: cannot read the job's entry script: {exc.strerror}") from exc
    files = {f"{job}/job.py": hashlib.sha256(script).hexdigest()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _package_files(jobs_dir, job) + _package_files(jobs_dir, RUNTIME_PACKAGE):
            name = path.relative_to(jobs_dir).as_posix()
            body = path.read_bytes()
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, body)
            files[name] = hashlib.sha256(body).hexdigest()
    return Package(job=job, script=script, libs=buffer.getvalue(), files=files)


def git_sha(cwd: Path = PROJECT_DIR) -> str | None:
    """The checkout's commit (with ``-dirty`` if it has changes), or None outside git."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "glue_jobs"], cwd=cwd, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha


def resolve_git_ref(ref: str, cwd: Path = PROJECT_DIR) -> str:
    """The commit ``ref`` names in the checkout at ``cwd``.

    :raises BuildError: ``ref`` is not a commit there.
    """
    try:
        return subprocess.run(
            ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BuildError(f"git ref {ref!r} is not a commit of {cwd} (Param 'git_ref': a branch, tag or sha)") from exc


def export_git_ref(ref: str, target: Path, cwd: Path = PROJECT_DIR) -> tuple[Path, str]:
    """Write ``glue_jobs/`` as of ``ref`` under ``target``; return that jobs folder and the commit."""
    import tarfile

    sha = resolve_git_ref(ref, cwd)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", sha, "glue_jobs"], cwd=cwd, capture_output=True, check=True, timeout=60
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "glue_jobs", sha


def sources(git_ref: str | None, workdir: Path) -> tuple[Path, str | None]:
    """The jobs folder to build from and its commit: ``git_ref`` exported under ``workdir``, else the checkout."""
    if git_ref:
        return export_git_ref(git_ref, workdir)
    return JOBS_DIR, git_sha()


def manifest(package: Package, bucket: str, git: str | None) -> dict:
    return {
        "job": package.job,
        "version": package.version,
        "sha256": package.sha256,
        "objects": {
            "job.py": hashlib.sha256(package.script).hexdigest(),
            "libs.zip": hashlib.sha256(package.libs).hexdigest(),
        },
        "files": package.files,
        "git_sha": git,
        "builder": f"{getpass.getuser()}@{socket.gethostname()}",
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "uri": f"s3://{bucket}/{package.job}/{package.version}/",
    }
