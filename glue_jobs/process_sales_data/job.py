"""Glue entry script of process_sales_data: raw sales CSV in, clean Parquet and a run summary out."""

import sys
from datetime import UTC, datetime

import boto3

from glue_runtime import init_job
from process_sales_data.transforms import (
    RAW_SCHEMA,
    build_run_summary,
    rejected_counts,
    transform_data,
    write_clean_sales,
    write_run_summary,
    write_run_summary_file,
)

ARGUMENTS = ["input_path", "output_path", "summary_path", "release_version", "JOB_RUN_ID"]


def main(argv: list[str]) -> None:
    job = init_job(argv, ARGUMENTS)
    args, run_id = job.args, job.args["JOB_RUN_ID"]
    processed_date = datetime.now(UTC).date()
    # enforceSchema=false: a file whose header does not match RAW_SCHEMA fails the run instead of shifting columns.
    raw = job.spark.read.csv(args["input_path"], schema=RAW_SCHEMA, header=True, enforceSchema=False).cache()
    write_clean_sales(transform_data(raw, processed_date), args["output_path"])
    summary = build_run_summary(
        rows_in=raw.count(),
        rejected=rejected_counts(raw),
        release_version=args["release_version"],
        job_name=args["JOB_NAME"],
        run_id=run_id,
        processed_date=processed_date,
    )
    if args["summary_path"].startswith("s3://"):
        write_run_summary(boto3.client("s3"), summary, args["summary_path"], run_id)
    else:  # a local run, or an emulator that maps s3:// arguments to local folders
        write_run_summary_file(summary, args["summary_path"], run_id)
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
