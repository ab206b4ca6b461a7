"""The process-wide job bookmark: which S3 objects earlier committed runs of this job processed.

AWS documents (``monitor-continuations.html``, ``programming-etl-connect-bookmarks.html``) that
``job.init`` retrieves the job's latest bookmark state and ``job.commit`` saves the state elements
atomically; each element is keyed by the ``transformation_ctx`` of a source, and for S3 sources
the objects' last modified times decide what is new, so a modified object is read again.
``job-bookmark-pause`` reads what is new without updating the state; ``job-bookmark-disable``
(the default) reads everything.

Readers call :meth:`BookmarkState.select` with every object a source would read; :class:`awsglue.job.Job`
starts and commits the state. The committed state lives in the JSON file named by
:data:`FILE_ENV` when it is set (the local Glue executor gives every run one, holding the job's
bookmark), else in this process's memory keyed by job name (a job's pytest running its script
twice). The file, version :data:`FORMAT_VERSION`::

    {"version": 1, "job_name": "sales", "committed": true, "committed_at": "2025-01-31T12:00:00+00:00",
     "contexts": {"datasource0": {"high_water_mark": 1738324800.0,
                                  "objects": {"s3://bucket/in/a.csv": 1738324800.0}}}}

``objects`` maps each processed object to the modification time (epoch seconds) it had when read;
``high_water_mark`` is the newest of them. ``committed`` is true only in a file this module wrote.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE_ENV = "LOCALGLUE_BOOKMARK_FILE"
FORMAT_VERSION = 1
ENABLE, DISABLE, PAUSE = "job-bookmark-enable", "job-bookmark-disable", "job-bookmark-pause"

# Committed contexts per job name, when no file is given (FILE_ENV unset).
_memory: dict[str, dict[str, dict[str, Any]]] = {}


class BookmarkState:
    """The bookmark of the job this process runs: disabled until :meth:`start` with enable or pause."""

    def __init__(self) -> None:
        self.option = DISABLE
        self.job_name: str | None = None
        self._committed: dict[str, dict[str, Any]] = {}
        self._pending: dict[str, dict[str, float]] = {}

    @property
    def enabled(self) -> bool:
        """True for ``job-bookmark-enable`` and ``job-bookmark-pause``: reads skip processed objects."""
        return self.option in (ENABLE, PAUSE)

    def start(self, job_name: str, option: str) -> None:
        """Begin a run of ``job_name`` (``Job.init``): load its committed state, forget pending progress."""
        self.job_name, self.option = job_name, option
        self._pending = {}
        self._committed = _load(job_name) if self.enabled else {}

    def select(self, ctx: str | None, objects: list[tuple[str, float]]) -> list[str]:
        """The URIs among ``objects`` (URI, last modified epoch seconds) that the source ``ctx`` reads now.

        Those no committed run processed at that modification time; with ``job-bookmark-enable``
        they become ``ctx``'s pending progress. Disabled, or without a ``ctx``: every URI, nothing
        recorded.
        """
        if not self.enabled or not ctx:
            return [uri for uri, _ in objects]
        processed = self._committed.get(ctx, {}).get("objects", {})
        new = [(uri, modified) for uri, modified in objects if processed.get(uri) != modified]
        if self.option == ENABLE and new:
            self._pending.setdefault(ctx, {}).update(new)
        return [uri for uri, _ in new]

    def commit(self) -> None:
        """``Job.commit``: pending progress joins the committed state, which is saved (enable only)."""
        if self.option != ENABLE:
            return
        assert self.job_name is not None
        for ctx, objects in self._pending.items():
            processed = self._committed.setdefault(ctx, {"objects": {}})["objects"]
            processed.update(objects)
            self._committed[ctx]["high_water_mark"] = max(processed.values())
        self._pending = {}
        _save(self.job_name, self._committed)


_state = BookmarkState()


def state() -> BookmarkState:
    """This process's bookmark state."""
    return _state


def reset() -> None:
    """Forget the state and every in-memory bookmark (tests)."""
    global _state
    _state = BookmarkState()
    _memory.clear()


def _load(job_name: str) -> dict[str, dict[str, Any]]:
    path = os.environ.get(FILE_ENV)
    if not path:
        return copy.deepcopy(_memory.get(job_name, {}))
    if not Path(path).exists():
        return {}
    document = json.loads(Path(path).read_text())
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: job bookmark format version {document.get('version')!r}, expected {FORMAT_VERSION}")
    return document["contexts"]


def _save(job_name: str, contexts: dict[str, dict[str, Any]]) -> None:
    path = os.environ.get(FILE_ENV)
    if not path:
        _memory[job_name] = copy.deepcopy(contexts)
        return
    document = {
        "version": FORMAT_VERSION,
        "job_name": job_name,
        "committed": True,
        "committed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "contexts": contexts,
    }
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True))
    os.replace(temporary, target)
