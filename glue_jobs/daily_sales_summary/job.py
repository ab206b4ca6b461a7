"""Glue entry script of daily_sales_summary: clean sales Parquet in, daily sales Parquet out."""

import sys

from daily_sales_summary.transforms import summarise
from glue_runtime import init_job

ARGUMENTS = ["input_path", "output_path"]


def main(argv: list[str]) -> None:
    job = init_job(argv, ARGUMENTS)
    daily = summarise(job.spark.read.parquet(job.args["input_path"]))
    # A few hundred rows: one file, replaced whole on every run.
    daily.coalesce(1).write.mode("overwrite").parquet(job.args["output_path"])
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
