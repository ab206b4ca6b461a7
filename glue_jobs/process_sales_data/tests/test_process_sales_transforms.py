"""The cleaning rules and the output schema, on real local Spark."""

import re
from datetime import UTC, date, datetime

import pytest

from process_sales_data.tests.sample_data import COLUMNS, generate_rows
from process_sales_data.transforms import (
    RAW_SCHEMA,
    REJECTION_REASONS,
    VALID_STATUSES,
    build_run_summary,
    get_output_schema,
    rejected_counts,
    transform_data,
)

PROCESSED = date(2026, 11, 24)
T1 = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
T2 = datetime(2026, 10, 6, 23, 59, 59, tzinfo=UTC)

# (sale_id, customer_id, product_id, amount, status, sold_at); the comment says what becomes of the row.
HAND_ROWS = [
    ("S1", "C1", "P1", 100.0, "completed", T1),  # kept
    ("S2", "C1", "P1", -50.0, "refunded", T1),  # non_positive_amount
    ("S3", "C1", "P1", None, "pending", T1),  # missing_amount
    ("S4", "C2", "P2", 0.004, "completed", T1),  # rounds to 0.00: non_positive_amount
    ("S5", "C2", "P2", 0.0, "completed", T1),  # non_positive_amount
    ("S6", "C2", None, 12.345, "  Pending ", T2),  # kept: status normalised, amount rounded
    ("S7", "C3", "P3", 10.0, "shipped", T1),  # invalid_status
    ("S8", "C3", "P3", 10.0, None, T1),  # invalid_status (null)
    (None, "C3", "P3", 10.0, "completed", T1),  # missing_sale_id
    ("S9", "C3", "P3", 10.0, "completed", None),  # missing_sold_at
    ("S10", "C4", "P4", 20.0, "pending", T1),  # duplicate_sale_id: an older copy
    ("S10", "C4", "P4", 25.0, "completed", T2),  # kept: the latest copy
    ("S10", "C4", "P4", -1.0, "completed", T2),  # non_positive_amount, not a duplicate
    ("S11", "C5", "P5", 30.0, "cancelled", T2),  # duplicate_sale_id: same time, lower amount
    ("S11", "C5", "P5", 31.0, "CANCELLED", T2),  # kept: tie on time, higher amount
]


@pytest.fixture(scope="module")
def hand_df(spark):
    return spark.createDataFrame(HAND_ROWS, RAW_SCHEMA)


@pytest.fixture(scope="module")
def sample_rows():
    return generate_rows(2000, seed=11)


@pytest.fixture(scope="module")
def sample_df(spark, sample_rows):
    return spark.createDataFrame(sample_rows, RAW_SCHEMA).cache()


def test_sample_rows_match_the_raw_schema():
    assert tuple(RAW_SCHEMA.fieldNames()) == COLUMNS


def test_invalid_records_are_dropped_and_the_rest_normalised(hand_df):
    rows = {r.sale_id: r for r in transform_data(hand_df, PROCESSED).collect()}

    assert sorted(rows) == ["S1", "S10", "S11", "S6"]
    assert (rows["S6"].status, rows["S6"].amount, rows["S6"].product_id) == ("pending", 12.35, None)
    assert (rows["S10"].amount, rows["S10"].status) == (25.0, "completed")
    assert (rows["S11"].amount, rows["S11"].status) == (31.0, "cancelled")
    assert rows["S6"].sale_date == date(2026, 10, 6)
    assert {r.processed_date for r in rows.values()} == {PROCESSED}


def test_duplicates_resolve_the_same_whatever_the_input_order(spark):
    one_order = spark.createDataFrame(HAND_ROWS, RAW_SCHEMA)
    reverse_order = spark.createDataFrame(list(reversed(HAND_ROWS)), RAW_SCHEMA).repartition(3)

    assert sorted(transform_data(one_order, PROCESSED).collect()) == sorted(
        transform_data(reverse_order, PROCESSED).collect()
    )


def test_rejected_counts_give_each_row_its_first_reason(hand_df):
    assert rejected_counts(hand_df) == {
        "missing_sale_id": 1,
        "missing_sold_at": 1,
        "missing_amount": 1,
        "non_positive_amount": 4,
        "invalid_status": 2,
        "duplicate_sale_id": 2,
    }


def test_sample_data_comes_out_clean(sample_df, sample_rows):
    clean = transform_data(sample_df, PROCESSED).collect()
    rejected = rejected_counts(sample_df)

    assert all(count > 0 for count in rejected.values()), rejected  # every kind of bad record is exercised
    assert len(clean) == len(sample_rows) - sum(rejected.values())
    assert all(r.amount > 0 for r in clean)
    assert {r.status for r in clean} <= set(VALID_STATUSES)
    assert len({r.sale_id for r in clean}) == len(clean)
    assert {r.processed_date for r in clean} == {PROCESSED}
    assert all(r.sale_date == r.sold_at.date() for r in clean)


def test_output_schema_is_what_the_transform_returns(hand_df):
    assert transform_data(hand_df, PROCESSED).schema == get_output_schema()
    assert set(get_output_schema().fieldNames()) >= {"sale_id", "amount", "status", "processed_date"}


def test_run_summary_accounts_for_every_row():
    summary = build_run_summary(
        rows_in=10,
        rejected={"missing_amount": 2, "duplicate_sale_id": 1},
        release_version="1.2.3",
        job_name="process_sales_data-staging",
        run_id="jr_1",
        processed_date=PROCESSED,
    )

    assert summary["rows_out"] == 7
    assert summary["rows_rejected"] == 3
    assert list(summary["rejected_by_reason"]) == list(REJECTION_REASONS)
    assert summary["rejected_by_reason"]["missing_amount"] == 2
    assert (summary["release_version"], summary["run_id"], summary["processed_date"]) == ("1.2.3", "jr_1", "2026-11-24")


@pytest.mark.parametrize(
    ("rejected", "message"),
    [({"typo": 1}, "unknown rejection reason(s) typo; allowed: missing_sale_id"), ({"missing_amount": 11}, "11 rows")],
)
def test_run_summary_refuses_inconsistent_counts(rejected, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_run_summary(
            rows_in=10, rejected=rejected, release_version="v", job_name="j", run_id="r", processed_date=PROCESSED
        )
