"""Data generations: every run writes a new run-scoped prefix under its dataset's path, and the
catalog is pointed at a generation only once it has passed its checks (write-audit-publish).

``s3://bucket/curated/sales/_gen=20261125T093000-3f2a1c/`` is the generation ``20261125T093000-3f2a1c``
of the dataset at ``s3://bucket/curated/sales/``: the DAG run's time and a digest of its id and
clear number, so a retried task writes the same generation, and neither a new run nor a cleared
one ever writes where an earlier one did (which may be what consumers read).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

PREFIX = "_gen="
_GENERATION = re.compile(r"/_gen=(\d{8}T\d{6}-[0-9a-f]{6})/")


def generation_id(run_ref: str, when: datetime, clear_number: int = 0) -> str:
    """The generation a DAG run writes (``run_ref`` names the run; ``when`` is its ``run_after``;
    ``clear_number`` counts the times it was cleared)."""
    digest = hashlib.sha256(f"{run_ref}#{clear_number}".encode()).hexdigest()[:6]
    return f"{when.astimezone(UTC):%Y%m%dT%H%M%S}-{digest}"


def generation_uri(base: str, generation: str) -> str:
    """The prefix of ``generation`` under the dataset path ``base``."""
    return f"{base.rstrip('/')}/{PREFIX}{generation}/"


def generation_of(location: str | None) -> str | None:
    """The generation a catalog location lies in (None: not a generation)."""
    match = _GENERATION.search((location or "").rstrip("/") + "/")
    return match.group(1) if match else None


def created_at(generation: str) -> datetime:
    return datetime.strptime(generation.split("-")[0], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def expired(generations: list[str], *, keep: set[str], keep_days: float, now: datetime | None = None) -> list[str]:
    """The generations retention may delete: not in ``keep`` (published, or a rollback target)
    and older than ``keep_days``. Oldest first."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    return sorted(g for g in generations if g not in keep and created_at(g) < cutoff)
