"""A thin convenience over the ``awsglue`` API for this project's jobs: arguments, Spark, catalog reads.

The jobs call the real API underneath: on AWS Glue, AWS's ``awsglue``; elsewhere (the local
AWS emulator's job runs, the release's test stage, pytest) the project's own implementation in
``local_runtime/awsglue``, which those put on PYTHONPATH. Scripts written directly against
``awsglue`` (see ``glue_jobs/sales_by_region``) run the same way; this module only saves the
boilerplate::

    from glue_runtime import init_job

    job = init_job(sys.argv, ["input_path", "output_path"])
    df = job.spark.read.csv(job.args["input_path"], header=True)
    sales = job.read_table("sales_db.clean_sales")  # through the Glue Data Catalog
    ...
    job.commit()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def split_table_name(name: str) -> tuple[str, str]:
    """``"database.table"`` -> ``("database", "table")``; anything else is a ValueError."""
    database, dot, table = name.partition(".")
    if not dot or not database or not table or "." in table or name != name.strip() or " " in name:
        raise ValueError(f"a catalog table name must be 'database.table' (one dot, no spaces), got {name!r}")
    return database, table


def local_spark_session(app_name: str = "glue-job"):
    """A local SparkSession tuned for small data (tests): UTC, no UI, few shuffle partitions."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[*]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    return spark


@dataclass
class GlueJob:
    """A started job: its resolved arguments, Spark session, GlueContext and ``awsglue`` Job."""

    args: dict[str, str]
    glue_context: Any
    job: Any

    @property
    def spark(self):
        return self.glue_context.spark_session

    def read_table(self, name: str):
        """The rows of Glue Data Catalog table ``name`` (``"database.table"``) as a Spark DataFrame.

        Inputs produced by other jobs are read through the catalog, so a job sees exactly what is
        published (for a partitioned table, each partition at its own location).

        :raises ValueError: ``name`` is not of the form ``database.table``.
        """
        database, table = split_table_name(name)
        frame = self.glue_context.create_dynamic_frame.from_catalog(
            database=database, table_name=table, transformation_ctx=f"read_{database}_{table}"
        )
        return frame.toDF()

    def commit(self) -> None:
        """Commit the job (records job-bookmark progress when bookmarks are enabled)."""
        self.job.commit()


def init_job(argv: list[str], options: list[str]) -> GlueJob:
    """Resolve ``options`` (plus ``JOB_NAME``) from ``argv``, create the GlueContext and start the job."""
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(argv, list(dict.fromkeys(["JOB_NAME", *options])))
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    return GlueJob(args=args, glue_context=glue_context, job=job)
