"""What a Glue job imports instead of ``awsglue``: arguments, Spark, catalog reads, job init and commit.

On AWS Glue (``awsglue`` importable) it delegates to awsglue; elsewhere it uses plain local
Spark (and, for catalog reads, ``localglue`` from the ``local_runtime`` folder, which the
emulator's job runs and the tests put on PYTHONPATH), so the same ``job.py`` runs on Glue, on
the local AWS emulator and in unit tests::

    from glue_runtime import init_job

    job = init_job(sys.argv, ["input_path", "output_path"])
    df = job.spark.read.csv(job.args["input_path"], header=True)
    sales = job.read_table("sales_db.clean_sales")  # through the Glue Data Catalog
    ...
    job.commit()
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

ON_GLUE = importlib.util.find_spec("awsglue") is not None


class GlueArgumentError(Exception):
    """A required job argument is missing (awsglue raises an exception of the same name)."""


def get_resolved_options(argv: list[str], options: list[str]) -> dict[str, str]:
    """The named ``--option value`` arguments of ``argv``; same contract as ``getResolvedOptions``.

    Every option asked for is required; other arguments are ignored. ``JOB_NAME`` is resolved
    like any other option when asked for.
    """
    if ON_GLUE:
        from awsglue.utils import getResolvedOptions

        return getResolvedOptions(argv, options)
    given: dict[str, str] = {}
    items = argv[1:]
    for i, item in enumerate(items):
        if item.startswith("--"):
            name, sep, inline = item[2:].partition("=")
            if sep:
                given[name] = inline
            elif i + 1 < len(items) and not items[i + 1].startswith("--"):
                given[name] = items[i + 1]
            else:
                given[name] = ""
    missing = [name for name in options if name not in given]
    if missing:
        raise GlueArgumentError("the following arguments are required: " + ", ".join(f"--{name}" for name in missing))
    return {name: given[name] for name in options}


def split_table_name(name: str) -> tuple[str, str]:
    """``"database.table"`` -> ``("database", "table")``; anything else is a ValueError."""
    database, dot, table = name.partition(".")
    if not dot or not database or not table or "." in table or name != name.strip() or " " in name:
        raise ValueError(f"a catalog table name must be 'database.table' (one dot, no spaces), got {name!r}")
    return database, table


def local_spark_session(app_name: str = "glue-job"):
    """A local SparkSession tuned for small data: UTC, no UI, few shuffle partitions."""
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
    """A started job: its resolved arguments, its Spark session and (on Glue) its GlueContext."""

    args: dict[str, str]
    spark: Any
    glue_context: Any = None
    _job: Any = field(default=None, repr=False)

    def read_table(self, name: str):
        """The rows of Glue Data Catalog table ``name`` (``"database.table"``) as a Spark DataFrame.

        Inputs produced by other jobs are read through the catalog, so a job sees exactly what is
        published (for a partitioned table, each partition at its own location). On Glue this is
        ``from_catalog(...).toDF()``; elsewhere ``localglue.catalog.read_table`` (the
        ``local_runtime`` folder, on PYTHONPATH where Glue is absent) reads it on local Spark.

        :raises ValueError: ``name`` is not of the form ``database.table``.
        """
        database, table = split_table_name(name)
        if self.glue_context is not None:
            frame = self.glue_context.create_dynamic_frame.from_catalog(
                database=database, table_name=table, transformation_ctx=f"read_{database}_{table}"
            )
            return frame.toDF()
        from localglue.catalog import read_table

        return read_table(self.spark, database, table)

    def commit(self) -> None:
        """Commit the job (job bookmarks on Glue); a no-op locally."""
        if self._job is not None:
            self._job.commit()


def init_job(argv: list[str], options: list[str]) -> GlueJob:
    """Resolve ``options`` (plus ``JOB_NAME``) from ``argv`` and start the job."""
    wanted = list(dict.fromkeys(["JOB_NAME", *options]))
    args = get_resolved_options(argv, wanted)
    if not ON_GLUE:
        return GlueJob(args=args, spark=local_spark_session(args["JOB_NAME"]))
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    return GlueJob(args=args, spark=glue_context.spark_session, glue_context=glue_context, _job=job)
