"""Checks that run where the data is: the environment's checks job on Glue, awaited by the triggerer."""

from __future__ import annotations

import math
from typing import Any

from glue_cicd.operators.base import XCOM_FAILURE, JobOperator
from glue_cicd.spec import DistributedChecks, Environment, OutputDataset


class RemoteChecksOperator(JobOperator):
    """Base of the operators whose checks of a large dataset run in the checks job.

    A subclass's :meth:`perform` makes one *item* per dataset, either ``{"result": ...}`` (checked
    in-process: a small dataset) or ``{"check": ...}`` (a check of the checks job's request), each
    with what its :meth:`conclude` needs under ``"about"``, and passes them to
    :meth:`run_checks`. The worker holds no worker slot and no data while the job runs. A run of
    the job that does not succeed is an infrastructure error, never a data verdict: it is started
    again (``distributed_checks.attempts`` runs in all), then the task fails and is retried as
    its retries allow; it never concludes, so nothing that depends on its verdict happens.
    """

    def conclude(self, context, items: list[dict[str, Any]]) -> Any:
        """The task's outcome from ``items``, each now holding its ``result``."""
        raise NotImplementedError

    def data_entry(self, store, locations: list, output: OutputDataset, settings: DistributedChecks) -> dict[str, Any]:
        """``output``'s data at ``locations`` as a request's data entry, its path decided and logged."""
        from glue_cicd.check_requests import data_entry

        entry = data_entry(store.conn, locations, output.format, settings)
        rows = "uncounted" if entry["rows"] is None else f"{entry['rows']:,}"
        self.log.info(
            "%s: %d data files, %s bytes, %s rows: checked %s",
            output.name, len(entry["files"]), f"{entry['bytes']:,}", rows,
            "by the checks job (distributed_checks)" if entry["distributed"] else "in-process",
        )  # fmt: skip
        return entry

    def run_checks(self, context, env: Environment, settings: DistributedChecks, items: list[dict[str, Any]]) -> Any:
        """Conclude on ``items`` now if all are checked, else after the checks job has run the rest."""
        if not any("check" in item for item in items):
            return self.conclude(context, items)
        from glue_cicd.hooks.checks_job import ChecksJobHook

        ti = context["ti"]
        job = ChecksJobHook(aws_conn_id=env.aws_conn_id, region_name=env.region).ensure(env, settings)
        prefix = f"_quality/checks/{self.job}/{context['run_id']}/{ti.task_id}/{ti.map_index}-{ti.try_number}/"
        prefix = prefix.replace(":", "-")
        for n, item in enumerate(items):
            if "check" in item:
                item["check"]["result_uri"] = f"s3://{env.data_bucket}/{prefix}result-{n}.json"
        request = {"checks": [item["check"] for item in items if "check" in item], "items": items}
        request_uri = self.store(env).put_json(env.data_bucket, prefix + "request.json", request)
        self.start_checks(env, settings, job, request_uri, attempt=1)

    def start_checks(self, env: Environment, settings: DistributedChecks, job: str, request_uri: str, attempt: int):
        from glue_cicd.hooks.checks_job import ChecksJobHook
        from glue_cicd.triggers import ChecksRunTrigger

        run_id = ChecksJobHook(aws_conn_id=env.aws_conn_id, region_name=env.region).start(job, request_uri)
        self.log.info("checks job %s run %s started (attempt %d of %d) on %s", job, run_id, attempt,
                      settings.attempts, request_uri)  # fmt: skip
        delay = max(1, math.ceil(env.glue_poll_seconds))
        self.defer(
            trigger=ChecksRunTrigger(
                job_name=job,
                run_id=run_id,
                verbose=True,
                aws_conn_id=env.aws_conn_id,
                region_name=env.region,
                waiter_delay=delay,
                waiter_max_attempts=math.ceil(settings.timeout_minutes * 60 / delay) + 10,
                request_uri=request_uri,
                environment=env.name,
                attempt=attempt,
            ),
            method_name="checks_ended",
        )

    def checks_ended(self, context, event: dict[str, Any]) -> Any:
        """Resume when the checks job's run has ended (the event says which, and of what request)."""
        keys = ("environment", "job_name", "request_uri", "run_id", "attempt")
        return self.refusing(context, self._checks_ended, context, **{k: event[k] for k in keys})

    def _checks_ended(self, context, *, environment: str, job_name: str, request_uri: str, run_id: str, attempt: int):
        from airflow.sdk.exceptions import AirflowException

        from glue_cicd.hooks.checks_job import ChecksJobHook
        from glue_cicd.spec import load_environments

        environments = load_environments()
        env, settings = environments[environment], environments.distributed_checks
        run = ChecksJobHook(aws_conn_id=env.aws_conn_id, region_name=env.region).run(job_name, run_id)
        if run["JobRunState"] != "SUCCEEDED":
            reason = f"checks job {job_name} run {run_id} ended {run['JobRunState']}"
            reason += f": {run['ErrorMessage']}" if run.get("ErrorMessage") else ""
            if attempt < settings.attempts:
                self.log.warning("%s: an infrastructure error, not a data verdict; starting the checks again", reason)
                return self.start_checks(env, settings, job_name, request_uri, attempt + 1)
            reason = (
                f"{reason} (attempt {attempt} of {settings.attempts}): an infrastructure error, not a data "
                "verdict; no verdict was given and nothing that waits for it happened. The task's retries "
                "start the checks again."
            )
            context["ti"].xcom_push(key=XCOM_FAILURE, value=reason)  # for the alert, if no retry succeeds
            raise AirflowException(reason)
        store = self.store(env)
        items = store.get_json(request_uri)["items"]
        for item in items:
            if "check" in item:
                item["result"] = {**store.get_json(item["check"]["result_uri"]), "checked_by": f"{job_name}/{run_id}"}
        return self.conclude(context, items)
