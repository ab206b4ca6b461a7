"""Build: the job's sources become an immutable, content-versioned artifact."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glue_cicd.operators.base import JobOperator


class BuildArtifactOperator(JobOperator):
    """Package the job and publish it to the artifact bucket (a no-op for a version that exists).

    :param git_ref: build the sources of this git ref; None builds the deployed checkout.
    :return: the artifact (``job``, ``version``, ``sha256``, ``bucket``, ``git_sha``, URIs).
    """

    template_fields: Sequence[str] = ("job", "git_ref")

    def __init__(self, *, job: str, git_ref: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.job = job
        self.git_ref = git_ref

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.build import package_job, sources

        environments, _ = self.load()
        staging = environments["staging"]
        with tempfile.TemporaryDirectory() as workdir:
            jobs_dir, git = sources(self.git_ref or None, Path(workdir))
            package = package_job(self.job, jobs_dir)
            artifact, new = self.store(staging).publish(package, staging.artifact_bucket, git)
        self.log.info("%s %s: %s", "built" if new else "already built", artifact.version, artifact.uri)
        self.ledger(environments).record(
            self.job, "build", run_id=self.run_ref(context), version=artifact.version, uri=artifact.uri, new=new
        )
        return {**artifact.to_dict(), "git_ref": self.git_ref or None}
