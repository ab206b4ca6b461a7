"""The environment's checks job (:mod:`glue_cicd.checks_job`): kept deployed, and started on a request."""

from __future__ import annotations

import hashlib
import io
import zipfile
from importlib.metadata import version
from pathlib import Path

from botocore.exceptions import ClientError

from glue_cicd.hooks.artifacts import ArtifactStoreHook
from glue_cicd.hooks.glue_jobs import GlueJobDefinitionHook
from glue_cicd.spec import DistributedChecks, Environment

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# What the checks job imports of glue_cicd (shipped as --extra-py-files; the rest needs Airflow).
MODULES = ("__init__.py", "errors.py", "paths.py", "quality.py", "data_diff.py", "spark_checks.py")
SCRIPT = "checks_job.py"
TAGS = {"managed-by": "glue-cicd", "glue-cicd:role": "checks"}


def package() -> tuple[bytes, bytes, str]:
    """The script, the zip of the modules it imports (byte-for-byte reproducible), and their sha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in MODULES:
            info = zipfile.ZipInfo(f"glue_cicd/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (PACKAGE_DIR / name).read_bytes())
    script, libs = (PACKAGE_DIR / SCRIPT).read_bytes(), buffer.getvalue()
    return script, libs, hashlib.sha256(script + b"\0" + libs).hexdigest()


class ChecksJobHook(GlueJobDefinitionHook):
    """Deploys the checks job of an environment and starts its runs."""

    def ensure(self, env: Environment, settings: DistributedChecks) -> str:
        """Create or update the checks job of ``env`` to this package and ``settings``; its name.

        The script and modules go to a content-addressed prefix of the artifact bucket, never
        overwritten, so a run in progress keeps the code it started with.
        """
        script, libs, sha = package()
        prefix = f"_checks/{sha[:16]}/"
        s3 = ArtifactStoreHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name).conn
        for name, body in ((SCRIPT, script), ("glue_cicd.zip", libs)):
            try:
                s3.head_object(Bucket=env.artifact_bucket, Key=prefix + name)
            except ClientError:
                s3.put_object(Bucket=env.artifact_bucket, Key=prefix + name, Body=body)
        name = settings.job_name.format(environment=env.name)
        location = f"s3://{env.artifact_bucket}/{prefix}"
        definition = {
            "Role": env.checks_glue_role_arn or env.glue_role_arn,
            "Command": {"Name": "glueetl", "ScriptLocation": location + SCRIPT, "PythonVersion": "3"},
            "DefaultArguments": {
                "--extra-py-files": location + "glue_cicd.zip",
                # Glue 5.0 has pyarrow and pandas; Great Expectations is installed at start.
                "--additional-python-modules": f"great_expectations=={version('great_expectations')}",
                "--job-language": "python",
            },
            "GlueVersion": "5.0",
            "WorkerType": settings.worker_type,
            "NumberOfWorkers": settings.number_of_workers,
            "Timeout": settings.timeout_minutes,
            "MaxRetries": 0,
            "ExecutionProperty": {"MaxConcurrentRuns": 20},
            "Description": "glue-cicd: quality checks and data diffs of datasets too large for the Airflow worker",
        }
        self.apply(name, definition, TAGS)
        return name

    def start(self, name: str, request_uri: str) -> str:
        """Start a run of checks job ``name`` on the request at ``request_uri``; its run id."""
        return self.conn.start_job_run(JobName=name, Arguments={"--request": request_uri})["JobRunId"]

    def run(self, name: str, run_id: str) -> dict:
        return self.conn.get_job_run(JobName=name, RunId=run_id)["JobRun"]
