"""Deterministic raw sales data, invalid records mixed in, for tests, local runs and benchmarks.

Standard library only (the emulator seeds its buckets from :func:`sample_files` without Spark).
Rows are tuples in :data:`COLUMNS` order, typed as ``RAW_SCHEMA`` reads them: ``amount`` a float
or None, ``sold_at`` an aware UTC datetime or None.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta

COLUMNS = ("sale_id", "customer_id", "product_id", "amount", "status", "sold_at")
FIRST_SALE = datetime(2026, 10, 1, tzinfo=UTC)
SALES_PERIOD_SECONDS = 31 * 24 * 3600
# Valid statuses as source systems spell them; the transform trims and lower-cases them.
STATUS_SPELLINGS = ("completed",) * 6 + ("pending",) * 2 + ("refunded", "cancelled", "Completed", " PENDING ")
UNKNOWN_STATUSES = ("shipped", "on_hold", "", None)
INVALID_KINDS = (
    "missing_sale_id",
    "missing_sold_at",
    "missing_amount",
    "zero_amount",
    "negative_amount",
    "unknown_status",
    "duplicate_sale_id",
)
SAMPLE_ROWS = 2000
SAMPLE_SEED = 20261124
SAMPLE_FILES = ("part-0001.csv", "part-0002.csv")


def generate_rows(n: int, seed: int = SAMPLE_SEED, *, invalid_share: float = 0.05) -> list[tuple]:
    """``n`` raw sales rows; about ``invalid_share`` of them invalid, of each kind in :data:`INVALID_KINDS`.

    With ``invalid_share=0`` every row is valid and every sale_id distinct. A duplicate repeats
    an earlier valid sale_id with a later timestamp, so it is the copy a clean run keeps.
    """
    rng = random.Random(seed)
    rows: list[tuple] = []
    valid: list[tuple] = []
    for i in range(n):
        sold_at = FIRST_SALE + timedelta(seconds=rng.randrange(SALES_PERIOD_SECONDS))
        row = (
            f"S{i:08d}",
            f"C{rng.randrange(5000):05d}",
            f"P{rng.randrange(300):04d}",
            rng.randrange(100, 100_000) / 100,
            rng.choice(STATUS_SPELLINGS),
            sold_at,
        )
        kind = rng.choice(INVALID_KINDS) if rng.random() < invalid_share else None
        if kind == "duplicate_sale_id" and valid:
            original = rng.choice(valid)
            row = (original[0], *row[1:5], original[5] + timedelta(minutes=rng.randrange(1, 600)))
        elif kind is not None:
            row = _spoil(row, kind, rng)
        else:
            valid.append(row)
        rows.append(row)
    return rows


def _spoil(row: tuple, kind: str, rng: random.Random) -> tuple:
    sale_id, customer_id, product_id, amount, status, sold_at = row
    if kind == "missing_sale_id":
        sale_id = None
    elif kind == "missing_sold_at":
        sold_at = None
    elif kind == "missing_amount":
        amount = None
    elif kind == "zero_amount":
        amount = 0.0
    elif kind == "negative_amount":
        amount = -amount
    elif kind == "unknown_status":
        status = rng.choice(UNKNOWN_STATUSES)
    return (sale_id, customer_id, product_id, amount, status, sold_at)


def to_csv(rows: list[tuple]) -> bytes:
    """``rows`` as CSV with a header; None is an empty field, timestamps are ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for sale_id, customer_id, product_id, amount, status, sold_at in rows:
        when = sold_at.strftime("%Y-%m-%dT%H:%M:%SZ") if sold_at else None
        writer.writerow((sale_id, customer_id, product_id, amount, status, when))
    return out.getvalue().encode()


def sample_files(dataset: str) -> dict[str, bytes]:
    """The sample input files of ``dataset``: {file name relative to the dataset path: bytes}."""
    if dataset != "raw_sales":
        raise KeyError(f"process_sales_data has no sample data for dataset {dataset!r}; known: raw_sales")
    rows = generate_rows(SAMPLE_ROWS)
    half = len(rows) // 2
    return {SAMPLE_FILES[0]: to_csv(rows[:half]), SAMPLE_FILES[1]: to_csv(rows[half:])}
