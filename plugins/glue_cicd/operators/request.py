"""The first task of a release: check what was asked for, and hand each Param on typed."""

from __future__ import annotations

from typing import Any

from glue_cicd.operators.base import JobOperator


class ReleaseRequestOperator(JobOperator):
    """Check the release request before anything is built: a known, valid job and a git ref that
    names a commit. Returns the request with one XCom per key, so downstream tasks take
    ``request.output["allow_drift"]`` (a bool) and the like.

    Reads the DAG run's Params ``git_ref`` (empty: the deployed checkout), ``release_notes`` and
    ``allow_drift``.
    """

    def __init__(self, *, job: str, **kwargs):
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.job = job

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.build import resolve_git_ref

        self.load()
        params = context["params"]
        git_ref = (params.get("git_ref") or "").strip() or None
        commit = resolve_git_ref(git_ref) if git_ref else None
        request = {
            "git_ref": git_ref,
            "commit": commit,
            "release_notes": params.get("release_notes") or "",
            "allow_drift": bool(params.get("allow_drift", False)),
            "triggered_by": self.triggered_by(context),
        }
        self.log.info("release request: %s", request)
        return request
