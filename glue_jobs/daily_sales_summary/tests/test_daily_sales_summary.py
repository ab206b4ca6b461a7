"""The daily summary on hand-built and on freshly cleaned sample data, on real local Spark."""

from datetime import UTC, date, datetime

import pytest

from daily_sales_summary import job
from daily_sales_summary.transforms import get_output_schema, summarise
from process_sales_data.tests.sample_data import generate_rows
from process_sales_data.transforms import RAW_SCHEMA, transform_data, write_clean_sales
from process_sales_data.transforms import get_output_schema as clean_schema

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)
PROCESSED = date(2026, 11, 24)


def clean_rows(*sales):
    """Clean-sales rows from (sale_id, amount, status, sale_date)."""
    return [
        (sale_id, "C1", "P1", amount, status, datetime(d.year, d.month, d.day, 12, tzinfo=UTC), d, PROCESSED)
        for sale_id, amount, status, d in sales
    ]


@pytest.fixture(scope="module")
def clean_df(spark):
    return spark.createDataFrame(
        clean_rows(
            ("S1", 10.00, "completed", D1),
            ("S2", 20.01, "completed", D1),
            ("S3", 0.10, "completed", D1),
            ("S4", 5.55, "refunded", D1),
            ("S5", 99.99, "completed", D2),
        ),
        clean_schema(),
    )


def test_summary_counts_sums_and_averages_per_day_and_status(clean_df):
    rows = [tuple(r) for r in summarise(clean_df).collect()]

    assert rows == [
        (D1, "completed", 3, 30.11, 10.04, 0.10, 20.01),
        (D1, "refunded", 1, 5.55, 5.55, 5.55, 5.55),
        (D2, "completed", 1, 99.99, 99.99, 99.99, 99.99),
    ]


def test_output_schema_is_what_summarise_returns(clean_df):
    assert summarise(clean_df).schema == get_output_schema()


def test_totals_match_the_clean_data_they_summarise(spark):
    clean = transform_data(spark.createDataFrame(generate_rows(3000, seed=5), RAW_SCHEMA), PROCESSED).cache()
    amounts = [r.amount for r in clean.select("amount").collect()]

    daily = summarise(clean).collect()

    assert sum(r.order_count for r in daily) == len(amounts)
    assert sum(r.total_amount for r in daily) == pytest.approx(sum(amounts), abs=0.01)
    assert all(r.min_amount <= r.avg_amount <= r.max_amount <= r.total_amount for r in daily)
    assert len({(r.sale_date, r.status) for r in daily}) == len(daily)


def test_job_summarises_the_clean_parquet_into_one_file(spark, clean_df, tmp_path):
    write_clean_sales(clean_df, str(tmp_path / "clean"))
    output = tmp_path / "daily"

    job.main(["job.py", "--JOB_NAME", "daily", "--input_path", str(tmp_path / "clean"), "--output_path", str(output)])

    assert len(list(output.glob("*.parquet"))) == 1
    assert sorted(spark.read.parquet(str(output)).collect()) == sorted(summarise(clean_df).collect())
