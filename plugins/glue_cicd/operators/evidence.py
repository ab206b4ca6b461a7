"""Evidence: what a reviewer needs to answer the approval, as the request's Markdown body."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from glue_cicd.operators.base import JobOperator, artifact_from


class ApprovalEvidenceOperator(JobOperator):
    """Gather the release's evidence: tests, quality, the definition diff against prod, durations.

    :param artifact: the build task's result (``build.output``).
    :param tests: the test task's report.
    :param quality: the staging quality gate's results.
    :param audit: the shadow run's audit results.
    :param data_diff: the data diff's results (one per dataset, with its Markdown summary).
    :param staging_run_id: the staging Glue run's id.
    :param request: the request task's result (git ref asked for, release notes).
    :return: the approval request's ``subject`` and Markdown ``body``, one XCom each.
    """

    template_fields: Sequence[str] = (
        "job", "artifact", "tests", "quality", "audit", "data_diff", "staging_run_id", "request",
    )  # fmt: skip

    def __init__(
        self,
        *,
        job: str,
        artifact: Any,
        tests: Any = None,
        quality: Any = None,
        audit: Any = None,
        data_diff: Any = None,
        staging_run_id: Any = None,
        request: Any = None,
        **kwargs,
    ):
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.job = job
        self.artifact = artifact
        self.tests = tests
        self.quality = quality
        self.audit = audit
        self.data_diff = data_diff
        self.staging_run_id = staging_run_id
        self.request = request

    def perform(self, context) -> dict[str, str]:
        from glue_cicd import deploy
        from glue_cicd.approval import ApprovalRefused, eligible_approvers, evidence_markdown

        environments, specs = self.load()
        artifact = artifact_from(self.artifact)
        staging, prod = environments["staging"], environments["prod"]
        prod_glue = self.glue(prod)
        prod_name = prod.glue_job_name(self.job)
        desired = deploy.render_definition(specs[self.job], prod, artifact)
        live = self.ledger(environments).live(self.job, "prod")
        staging_seconds = None
        if self.staging_run_id:
            staging_seconds = self.glue(staging).run_seconds(staging.glue_job_name(self.job), self.staging_run_id)
        triggered_by = self.triggered_by(context)
        try:
            approvers = eligible_approvers(prod.approvers, triggered_by)
        except ApprovalRefused:
            approvers = []  # the approval task refuses to wait, with the reason
        deadline = datetime.now(UTC) + timedelta(hours=prod.approval_timeout_hours)
        body = evidence_markdown(
            job=self.job,
            artifact=artifact.to_dict(),
            definition_diff=deploy.diff(prod_glue.live_definition(prod_name), desired),
            tests=self.tests or {},
            quality=self.quality or [],
            audit=self.audit or [],
            data_diff=self.data_diff or [],
            staging_seconds=staging_seconds,
            prod_last_seconds=prod_glue.last_successful_seconds(prod_name),
            prod_version=live.version if live else None,
            triggered_by=triggered_by,
            request=self.request or {},
            approvers=approvers,
            deadline=f"about {deadline:%Y-%m-%d %H:%M} UTC",
        )
        return {"subject": f"Publish {self.job} {artifact.version} and its data to prod?", "body": body}
