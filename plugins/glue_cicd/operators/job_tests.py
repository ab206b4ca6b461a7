"""Test: the job's own pytest suite, on exactly the sources that were built."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glue_cicd.operators.base import JobOperator, artifact_from


class JobTestsOperator(JobOperator):
    """Run the job's pytest suite on the built sources; store counts and JUnit XML by the artifact.

    A result is recorded in the ledger under a key of everything the tests can see (see
    :func:`glue_cicd.job_tests.job_tests_key`); a release whose key already passed reuses that
    result instead of running the tests again.

    :param artifact: the build task's result (``build.output``).
    :param git_ref: the git ref the artifact was built from; None for the deployed checkout.
    :return: the test report (counts, failed tests, ``key``, ``tested_in``).
    """

    template_fields: Sequence[str] = ("job", "artifact", "git_ref")

    def __init__(self, *, job: str, artifact: Any, git_ref: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.job = job
        self.artifact = artifact
        self.git_ref = git_ref

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.build import package_job, sources
        from glue_cicd.job_tests import JobTestsFailed, job_tests_key, run_job_tests

        environments, _ = self.load()
        artifact = artifact_from(self.artifact)
        ledger = self.ledger(environments)
        run_ref = self.run_ref(context)
        with tempfile.TemporaryDirectory() as workdir:
            jobs_dir, _ = sources(self.git_ref or None, Path(workdir))
            if package_job(self.job, jobs_dir).version != artifact.version:
                raise JobTestsFailed(f"the sources changed since build {artifact.version}: re-run the release")
            key = job_tests_key(jobs_dir, artifact.version)
            passed = ledger.passed_tests(self.job, key)
            if passed:
                self.log.info(
                    "tests passed in %s on the same content (key %s); not run again", passed["tested_in"], key
                )
                details = {**passed, "reused": True}
                ledger.record(self.job, "test", run_id=run_ref, version=artifact.version, **details)
                return details
            report, junit, tail = run_job_tests(self.job, jobs_dir, Path(workdir))
            if job_tests_key(jobs_dir, artifact.version) != key:
                raise JobTestsFailed("the sources changed while the tests ran: re-run the release")
        result = {**report.to_dict(), "key": key}
        staging = environments["staging"]
        store = self.store(staging)
        prefix = f"{artifact.prefix}tests/{key}/"
        store.put_bytes(artifact.bucket, prefix + "junit.xml", junit)
        store.put_json(artifact.bucket, prefix + "report.json", result)
        self.log.info("pytest output:\n%s", tail)
        ledger.record(self.job, "test", run_id=run_ref, version=artifact.version, **result)
        if not report.ok:
            raise JobTestsFailed(
                f"{self.job}'s tests failed: {report.failures} failures, {report.errors} errors of {report.tests} "
                f"({', '.join(report.failed_tests[:5]) or 'no tests ran'})"
            )
        return {**result, "tested_in": run_ref}
