"""Glue entry script of customer_daily_spend, written against AWS's ``awsglue`` API.

``--input_table`` is the clean sales table (``database.table``) in the Glue Data Catalog; the
output is Parquet under ``--output_path``, partitioned by ``processed_date``. With
``--processed_date YYYY-MM-DD`` a run reads that clean-sales partition alone (a catalog
push-down predicate) and writes that day; without it, the whole table. With job bookmarks
enabled, a run reads only the clean-sales files it has not read before.
"""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from customer_daily_spend.transforms import customer_daily_spend


def main(argv: list[str]) -> None:
    dated = "--processed_date" in argv
    args = getResolvedOptions(argv, ["JOB_NAME", "input_table", "output_path", *(["processed_date"] if dated else [])])
    glue_context = GlueContext(SparkContext.getOrCreate())
    logger = glue_context.get_logger()
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    database, _, table = args["input_table"].partition(".")
    day = {"push_down_predicate": f"processed_date = '{args['processed_date']}'"} if dated else {}
    sales = glue_context.create_dynamic_frame.from_catalog(
        database=database, table_name=table, transformation_ctx="clean_sales_source", **day
    )
    spend = customer_daily_spend(sales, glue_context)
    logger.info(f"customer_daily_spend: {args['input_table']} -> {args['output_path']}")
    glue_context.write_dynamic_frame.from_options(
        frame=spend,
        connection_type="s3",
        connection_options={"path": args["output_path"], "partitionKeys": ["processed_date"]},
        format="glueparquet",
        format_options={"compression": "snappy"},
        transformation_ctx="customer_daily_spend_sink",
    )
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
