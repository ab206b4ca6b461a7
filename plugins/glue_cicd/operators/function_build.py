"""Build and test a Lambda function: an immutable, content-versioned package, and its own tests."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glue_cicd.operators.function_base import FunctionOperator


class BuildFunctionOperator(FunctionOperator):
    """Package the function and store it as ``s3://<artifact bucket>/lambda/<function>/<version>/``
    (a no-op for a version that exists; another package under an existing version is refused).

    :return: the artifact (``name``, ``version``, ``sha256``, ``bucket``, ``uri``, ``code_sha256``).
    """

    def __init__(self, *, function: str, **kwargs):
        super().__init__(**kwargs)
        self.function = function

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.build import git_sha
        from glue_cicd.functions import FunctionArtifact, package_function

        environments, spec = self.load_target()
        staging = environments["staging"]
        package = package_function(spec)
        artifact = FunctionArtifact.of(spec.name, package, staging.artifact_bucket, git_sha())
        new = artifact.store(self.store(staging), package, requirements=spec.requirements, runtime=spec.runtime)
        self.log.info(
            "%s %s: %s (%d bytes)", "built" if new else "already built", artifact.version, artifact.uri, len(package)
        )
        self.ledger(environments).record(
            self.job,
            "build",
            run_id=self.run_ref(context),
            version=artifact.version,
            uri=artifact.uri,
            new=new,
        )
        return artifact.to_dict()


class FunctionTestsOperator(FunctionOperator):
    """Run the function's pytest suite (``tests/``, its folder on the path); store the JUnit XML
    beside the artifact and record the counts in the ledger.

    :param artifact: the build task's result.
    """

    template_fields: Sequence[str] = ("function", "artifact")

    def __init__(self, *, function: str, artifact: Any, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.artifact = artifact

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.functions import FunctionArtifact
        from glue_cicd.job_tests import JobTestsFailed, run_pytest

        environments, spec = self.load_target()
        artifact = FunctionArtifact.from_dict(self.artifact)
        with tempfile.TemporaryDirectory() as workdir:
            report, junit, tail = run_pytest(spec.name, spec.folder, [spec.folder], Path(workdir))
        self.log.info("pytest output:\n%s", tail)
        result = report.to_dict()
        store = self.store(environments["staging"])
        store.put_bytes(artifact.bucket, artifact.prefix + "tests/junit.xml", junit)
        store.put_json(artifact.bucket, artifact.prefix + "tests/report.json", result)
        self.ledger(environments).record(
            self.job, "test", run_id=self.run_ref(context), version=artifact.version, **result
        )
        if not report.ok:
            raise JobTestsFailed(
                f"{spec.name}'s tests failed: {report.failures} failures, {report.errors} errors "
                f"of {report.tests} ({', '.join(report.failed_tests[:5]) or 'no tests ran'})"
            )
        return result
