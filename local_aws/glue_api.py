"""Glue job calls moto lacks or fakes, added to moto's ``GlueResponse``.

``UpdateJob``, ``BatchStopJobRun``, ``GetJobBookmark`` and ``ResetJobBookmark`` are missing from
moto; ``CreateJob`` accepts duplicate names; its job runs never execute. Here job runs and
bookmarks go to the :class:`LocalGlueExecutor`.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.glue.exceptions import (
    AlreadyExistsException,
    ConcurrentRunsExceededException,
    EntityNotFoundException,
    InvalidInputException,
)
from moto.glue.responses import GlueResponse

from local_aws.bookmarks import BookmarkNotFoundError
from local_aws.executor import ConcurrentRunsError, LocalGlueExecutor, RunFailure, RunNotFoundError

# JobUpdate member -> FakeJob attribute. UpdateJob replaces the whole definition, so a member
# left out of the request is reset, exactly as on AWS.
_JOB_FIELDS = {
    "Description": "description",
    "LogUri": "log_uri",
    "Role": "role",
    "ExecutionProperty": "execution_property",
    "Command": "command",
    "DefaultArguments": "default_arguments",
    "NonOverridableArguments": "non_overridable_arguments",
    "Connections": "connections",
    "MaxRetries": "max_retries",
    "AllocatedCapacity": "allocated_capacity",
    "Timeout": "timeout",
    "MaxCapacity": "max_capacity",
    "SecurityConfiguration": "security_configuration",
    "NotificationProperty": "notification_property",
    "GlueVersion": "glue_version",
    "NumberOfWorkers": "number_of_workers",
    "WorkerType": "worker_type",
    "CodeGenConfigurationNodes": "code_gen_configuration_nodes",
    "ExecutionClass": "execution_class",
    "SourceControlDetails": "source_control_details",
}
_DEFAULTS: dict[str, Any] = {"execution_property": {}, "default_arguments": {}, "execution_class": "STANDARD"}

_executor: LocalGlueExecutor | None = None
_moto_create_job = GlueResponse.create_job
_moto_delete_job = GlueResponse.delete_job


def install(executor: LocalGlueExecutor) -> None:
    """Route this process's Glue job calls through ``executor``."""
    global _executor
    _executor = executor
    GlueResponse.create_job = create_job
    GlueResponse.update_job = update_job
    GlueResponse.start_job_run = start_job_run
    GlueResponse.get_job_run = get_job_run
    GlueResponse.get_job_runs = get_job_runs
    GlueResponse.batch_stop_job_run = batch_stop_job_run
    GlueResponse.delete_job = delete_job
    GlueResponse.get_job_bookmark = get_job_bookmark
    GlueResponse.reset_job_bookmark = reset_job_bookmark


def _runs() -> LocalGlueExecutor:
    assert _executor is not None, "install() first"
    return _executor


def create_job(self: GlueResponse) -> ActionResult:
    name = self._get_param("Name")
    if name in self.glue_backend.jobs:
        raise AlreadyExistsException(f"Job {name}")
    return _moto_create_job(self)


def update_job(self: GlueResponse) -> ActionResult:
    name = self._get_param("JobName")
    update = self._get_param("JobUpdate") or {}
    for required in ("Role", "Command"):
        if not update.get(required):
            raise InvalidInputException(
                "UpdateJob", f"JobUpdate.{required} is required: UpdateJob replaces the whole job definition."
            )
    job = self.glue_backend.get_job(name)
    for member, attribute in _JOB_FIELDS.items():
        setattr(job, attribute, update.get(member, _DEFAULTS.get(attribute)))
    job.last_modified_on = utcnow()
    return ActionResult({"JobName": name})


def start_job_run(self: GlueResponse) -> ActionResult:
    name = self._get_param("JobName")
    definition = self.glue_backend.get_job(name).as_dict()
    try:
        run = _runs().start(
            account=self.current_account,
            region=self.region,
            definition=definition,
            arguments=self._get_param("Arguments"),
            timeout_minutes=self._get_int_param("Timeout"),
        )
    except ConcurrentRunsError as exc:
        raise ConcurrentRunsExceededException(str(exc)) from exc
    return ActionResult({"JobRunId": run.id})


def get_job_run(self: GlueResponse) -> ActionResult:
    name = self._get_param("JobName")
    self.glue_backend.get_job(name)
    try:
        run = _runs().get(self.current_account, self.region, name, self._get_param("RunId"))
    except RunNotFoundError as exc:
        raise EntityNotFoundException(str(exc)) from exc
    return ActionResult({"JobRun": run.as_dict()})


def get_job_runs(self: GlueResponse) -> ActionResult:
    name = self._get_param("JobName")
    self.glue_backend.get_job(name)
    runs = _runs().runs_of(self.current_account, self.region, name)
    limit = self._get_int_param("MaxResults")
    if limit:
        runs = runs[:limit]
    return ActionResult({"JobRuns": [run.as_dict() for run in runs]})


def batch_stop_job_run(self: GlueResponse) -> ActionResult:
    name = self._get_param("JobName")
    stopped, errors = [], []
    for run_id in self._get_param("JobRunIds") or []:
        try:
            _runs().stop(self.current_account, self.region, name, run_id)
            stopped.append({"JobName": name, "JobRunId": run_id})
        except (RunNotFoundError, RunFailure) as exc:
            code = "EntityNotFoundException" if isinstance(exc, RunNotFoundError) else "InvalidInputException"
            errors.append(
                {"JobName": name, "JobRunId": run_id, "ErrorDetail": {"ErrorCode": code, "ErrorMessage": str(exc)}}
            )
    return ActionResult({"SuccessfulSubmissions": stopped, "Errors": errors})


def delete_job(self: GlueResponse) -> ActionResult:
    """Deleting a job deletes its bookmark, as on AWS (monitor-continuations.html)."""
    _runs().bookmarks.forget((self.current_account, self.region, self._get_param("JobName")))
    return _moto_delete_job(self)


def get_job_bookmark(self: GlueResponse) -> ActionResult:
    return _bookmark_response(self, _runs().bookmarks.get)


def reset_job_bookmark(self: GlueResponse) -> ActionResult:
    return _bookmark_response(self, _runs().bookmarks.reset)


def _bookmark_response(self: GlueResponse, call) -> ActionResult:
    """``call`` (``JobBookmarks.get`` or ``.reset``) as Glue answers; no job, run or bookmark is EntityNotFound."""
    name = self._get_param("JobName")
    self.glue_backend.get_job(name)
    try:
        entry = call((self.current_account, self.region, name), self._get_param("RunId"))
    except BookmarkNotFoundError as exc:
        raise EntityNotFoundException(str(exc)) from exc
    return ActionResult({"JobBookmarkEntry": entry})
