"""``awsglue.job.Job``: starts and commits the job bookmark, as AWS documents it.

"Always call ``job.init`` in the beginning of the script and the ``job.commit`` in the end of the
script ... These two functions initialize the bookmark service and update the state change to
the service. Bookmarks won't work without calling them." (``programming-etl-connect-bookmarks.html``)
The script gets "the job name and the control option for the job bookmarks from the arguments"
(``monitor-continuations.html``); ``init``, ``commit`` and ``isInitialized`` are the Job methods
AWS documents (``glue-etl-scala-apis-glue-util-job.html``). The state itself is
:mod:`awsglue._bookmarks`.
"""

from __future__ import annotations

import sys
from typing import Any

from awsglue import _bookmarks
from awsglue._unsupported import unsupported
from awsglue.utils import BOOKMARK_OPTIONS, GlueArgumentError, getResolvedOptions


class Job:
    """One run of a Glue job: ``Job(glue_context)``, then ``init`` first and ``commit`` last."""

    def __init__(self, glue_context: Any):
        self.glue_context = glue_context
        self._job_name: str | None = None

    def init(self, job_name: str, args: dict[str, Any] | None = None) -> None:
        """Start the run of ``job_name`` and load its bookmark.

        The bookmark option is ``args["job_bookmark_option"]`` (what ``getResolvedOptions``
        returns), else ``--job-bookmark-option`` in ``sys.argv``, else ``job-bookmark-disable``.

        :raises NotSupportedLocally: ``job-bookmark-pause`` with ``--job-bookmark-from`` /
            ``--job-bookmark-to`` (a range of earlier runs, which only AWS keeps).
        """
        resolved = args if args and args.get("job_bookmark_option") else getResolvedOptions(sys.argv, [])
        option = resolved["job_bookmark_option"]
        if option not in BOOKMARK_OPTIONS:
            raise GlueArgumentError(f"job bookmark option {option!r}: expected one of {', '.join(BOOKMARK_OPTIONS)}")
        if option == _bookmarks.PAUSE and (resolved.get("job_bookmark_from") or resolved.get("job_bookmark_to")):
            raise unsupported("Job.init", "monitor-continuations.html", "--job-bookmark-from / --job-bookmark-to")
        _bookmarks.state().start(job_name, option)
        self._job_name = job_name

    def isInitialized(self) -> bool:
        """Whether :meth:`init` was called."""
        return self._job_name is not None

    def commit(self) -> None:
        """Save what this run's bookmarked sources read (``job-bookmark-enable``; else nothing to save)."""
        if self._job_name is None:
            raise RuntimeError(
                "Job.commit() before Job.init(job_name, args): call init at the start of the script, "
                "commit at its end (programming-etl-connect-bookmarks.html)."
            )
        _bookmarks.state().commit()
