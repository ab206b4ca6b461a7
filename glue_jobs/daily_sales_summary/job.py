"""Glue entry script of daily_sales_summary: the clean sales table in, daily sales Parquet out.

``--input_table`` names the clean sales as a Glue Data Catalog table (``database.table``): the
job reads what is published, whichever data generation each partition points at.
"""

import sys

from daily_sales_summary.transforms import summarise
from glue_runtime import init_job

ARGUMENTS = ["input_table", "output_path"]


def main(argv: list[str]) -> None:
    job = init_job(argv, ARGUMENTS)
    daily = summarise(job.read_table(job.args["input_table"]))
    # A few hundred rows: one file, replaced whole on every run.
    daily.coalesce(1).write.mode("overwrite").parquet(job.args["output_path"])
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
