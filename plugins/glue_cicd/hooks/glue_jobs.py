"""Glue job definitions: read the live one, create or replace it whole, tag it, read its runs."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from glue_cicd.deploy import normalise


class GlueJobDefinitionHook(AwsBaseHook):
    """Glue's job API as the release uses it.

    ``UpdateJob`` replaces the whole definition, so :meth:`apply` always sends the full one.
    Takes the :class:`AwsBaseHook` arguments (``aws_conn_id``, ``region_name``).
    """

    def __init__(self, *args, **kwargs):
        kwargs["client_type"] = "glue"
        super().__init__(*args, **kwargs)

    def job_arn(self, name: str) -> str:
        """The job's ARN in the connection's partition, region and account."""
        return f"arn:{self.conn_partition}:glue:{self.conn_region_name}:{self.account_id}:job/{name}"

    def live_definition(self, name: str) -> dict[str, Any] | None:
        """The job's current definition in :func:`~glue_cicd.deploy.normalise` form; None if there is no job."""
        try:
            return normalise(self.conn.get_job(JobName=name)["Job"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "EntityNotFoundException":
                return None
            raise

    def apply(self, name: str, definition: dict[str, Any], tags: dict[str, str]) -> str:
        """Create or update job ``name`` with the full ``definition`` and set its tags.

        :return: ``created``, ``updated`` or ``unchanged``.
        """
        live = self.live_definition(name)
        if live is None:
            self.conn.create_job(Name=name, Tags=tags, **definition)
            return "created"
        outcome = "unchanged"
        if live != normalise(definition):
            self.conn.update_job(JobName=name, JobUpdate=definition)
            outcome = "updated"
        self.conn.tag_resource(ResourceArn=self.job_arn(name), TagsToAdd=tags)
        return outcome

    def run_state(self, name: str, run_id: str) -> str:
        """A run's ``JobRunState`` (SUCCEEDED, FAILED, STOPPED, TIMEOUT, RUNNING, ...)."""
        return self.conn.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"]

    def run_seconds(self, name: str, run_id: str) -> int | None:
        """How long a run took (``ExecutionTime``)."""
        return self.conn.get_job_run(JobName=name, RunId=run_id)["JobRun"].get("ExecutionTime")

    def last_successful_seconds(self, name: str) -> int | None:
        """``ExecutionTime`` of the job's latest successful run among its last 50; None if none or no job."""
        try:
            runs = self.conn.get_job_runs(JobName=name, MaxResults=50)["JobRuns"]
        except ClientError:
            return None
        return next((r.get("ExecutionTime") for r in runs if r["JobRunState"] == "SUCCEEDED"), None)
