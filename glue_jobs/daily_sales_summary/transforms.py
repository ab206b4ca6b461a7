"""Daily sales per status from the clean sales: counts, totals, averages and extremes.

The day is the sale's own date (``sale_date``, UTC), not the date the sale was processed, so a
late-arriving sale counts towards the day it happened. Amounts are doubles rounded to cents.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

GRAIN = ("sale_date", "status")


def get_output_schema() -> T.StructType:
    """The daily sales schema, as :func:`summarise` returns it and the job writes it."""
    return T.StructType(
        [
            T.StructField("sale_date", T.DateType()),
            T.StructField("status", T.StringType()),
            T.StructField("order_count", T.LongType(), nullable=False),
            T.StructField("total_amount", T.DoubleType()),
            T.StructField("avg_amount", T.DoubleType()),
            T.StructField("min_amount", T.DoubleType()),
            T.StructField("max_amount", T.DoubleType()),
        ]
    )


def summarise(df: DataFrame) -> DataFrame:
    """One row per sale date and status of the clean sales ``df``, ordered by both."""
    return (
        df.groupBy(*GRAIN)
        .agg(
            F.count(F.lit(1)).alias("order_count"),
            F.round(F.sum("amount"), 2).alias("total_amount"),
            F.round(F.avg("amount"), 2).alias("avg_amount"),
            F.min("amount").alias("min_amount"),
            F.max("amount").alias("max_amount"),
        )
        .orderBy(*GRAIN)
    )
