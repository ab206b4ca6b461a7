"""Completed sales per customer and day, as DynamicFrame transforms in the style of AWS's Glue samples.

From the clean sales: the fields the mart needs are mapped and typed (``ApplyMapping``), only
completed sales are kept (``Filter``), and each customer's sales of a sale date are counted and
summed, per processed day (the input's partition, kept as the output's so that an incremental
run adds whole partitions). Amounts are doubles rounded to cents, as in the clean sales.
"""

from __future__ import annotations

from awsglue.dynamicframe import DynamicFrame
from awsglue.transforms import ApplyMapping, Filter
from pyspark.sql import functions as F

MAPPINGS = [
    ("sale_id", "string", "sale_id", "string"),
    ("customer_id", "string", "customer_id", "string"),
    ("amount", "double", "amount", "double"),
    ("status", "string", "status", "string"),
    ("sale_date", "date", "sale_date", "date"),
    ("processed_date", "date", "processed_date", "date"),
]
GRAIN = ("customer_id", "sale_date", "processed_date")


def completed_sales(sales: DynamicFrame) -> DynamicFrame:
    """The mapped fields of the completed sales."""
    mapped = ApplyMapping.apply(frame=sales, mappings=MAPPINGS, transformation_ctx="mapped")
    return Filter.apply(frame=mapped, f=lambda sale: sale["status"] == "completed", transformation_ctx="completed")


def customer_daily_spend(sales: DynamicFrame, glue_context) -> DynamicFrame:
    """One record per customer, sale date and processed date: ``order_count``, ``total_amount``."""
    daily = (
        completed_sales(sales)
        .toDF()
        .groupBy(*GRAIN)
        .agg(F.count(F.lit(1)).alias("order_count"), F.round(F.sum("amount"), 2).alias("total_amount"))
    )
    return DynamicFrame.fromDF(daily, glue_context, "customer_daily_spend")
