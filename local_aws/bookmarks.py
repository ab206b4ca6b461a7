"""Job bookmarks of the local Glue executor: what each job's runs committed, as Glue's ``JobBookmarkEntry``."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

# The environment variable naming a run's job bookmark file (read and written by local_runtime/awsglue).
BOOKMARK_ENV = "LOCALGLUE_BOOKMARK_FILE"


class BookmarkNotFoundError(Exception):
    """The job has no bookmark (no run committed one), or none from that run."""


class JobBookmarks:
    """Each job's bookmark as Glue's ``JobBookmarkEntry``, holding what its runs' ``job.commit()`` saved.

    A run gets the job's bookmark state in a file (:data:`BOOKMARK_ENV`; no file when the job has
    none) and its ``job.commit()`` rewrites that file marked committed. When the run ends, what it
    committed becomes the job's bookmark, whatever the outcome: as on AWS, a commit is saved when
    made, and a run that fails after it has already written what it read.
    ``JobBookmark`` is the file's JSON (``local_runtime/awsglue/_bookmarks.py`` describes it, not
    AWS's internal format), ``"{}"`` after a reset; ``Attempt`` is always 0.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._by_run: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def write_for_run(self, key: tuple[str, str, str], path: Path) -> None:
        """Put the job's bookmark state, if any, in ``path`` for a run (not yet committed by it)."""
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry["state"] is not None:
            path.write_text(json.dumps({**entry["state"], "committed": False}))

    def record(self, key: tuple[str, str, str], run_id: str, path: Path) -> None:
        """After a run: what it committed to ``path``, if anything, is the job's bookmark."""
        document = json.loads(path.read_text()) if path.exists() else {}
        if not document.get("committed"):
            return
        with self._lock:
            previous = self._entries.get(key) or {"Version": 0, "Run": 0}
            entry = {
                "JobName": key[2],
                "Version": previous["Version"] + 1,
                "Run": previous["Run"] + 1,
                "Attempt": 0,
                "RunId": run_id,
                "state": document,
            }
            if previous.get("RunId"):
                entry["PreviousRunId"] = previous["RunId"]
            self._entries[key] = entry
            self._by_run.setdefault(key, {})[run_id] = entry

    def get(self, key: tuple[str, str, str], run_id: str | None = None) -> dict[str, Any]:
        """``GetJobBookmark``: the job's bookmark, or the one ``run_id`` committed."""
        with self._lock:
            return _bookmark_entry(self._find(key, run_id))

    def reset(self, key: tuple[str, str, str], run_id: str | None = None) -> dict[str, Any]:
        """``ResetJobBookmark``: the next run reads everything, or (``run_id``) what came after that run."""
        with self._lock:
            current = self._find(key, None)
            entry = {**self._find(key, run_id), "Version": current["Version"] + 1}
            if run_id is None:
                entry["state"] = None
            self._entries[key] = entry
            return _bookmark_entry(entry)

    def forget(self, key: tuple[str, str, str]) -> None:
        """The job was deleted, and with it its bookmark."""
        with self._lock:
            self._entries.pop(key, None)
            self._by_run.pop(key, None)

    def _find(self, key: tuple[str, str, str], run_id: str | None) -> dict[str, Any]:
        entry = self._entries.get(key) if run_id is None else self._by_run.get(key, {}).get(run_id)
        if entry is None:
            run = f" run {run_id}" if run_id else ""
            raise BookmarkNotFoundError(f"Continuation for job {key[2]}{run} not found")
        return entry


def _bookmark_entry(entry: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in entry.items() if k != "state"}
    result["JobBookmark"] = json.dumps(entry["state"] or {})
    return result
