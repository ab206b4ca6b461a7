"""``GlueContext`` on local PySpark: sources, sinks and S3 housekeeping of a Glue script.

Readers and writers follow AWS's ``GlueContext``, ``DynamicFrameReader`` and
``DynamicFrameWriter`` pages: ``s3`` and Glue Data Catalog sources and sinks in csv, json,
parquet (``glueparquet``) and orc, job bookmarks, ``getSink`` with catalog updates and
``purge_s3_path``. Creating a ``GlueContext`` also lets Spark's own readers and writers use
``s3://`` paths (:mod:`awsglue._spark_s3`). Other connection types (JDBC, DynamoDB, Kafka,
...) and the documented calls not implemented here raise ``NotSupportedLocally``.
"""

from __future__ import annotations

import logging
import sys
import time

from awsglue import _read, _write
from awsglue._spark_s3 import install
from awsglue._unsupported import unsupported
from localglue.catalog import describe_table
from localglue.s3 import delete_objects, list_files

CONTEXT_PAGE = "aws-glue-api-crawler-pyspark-extensions-glue-context.html"
DEFAULT_RETENTION_HOURS = 168
_NOT_LOCAL = (
    "extract_jdbc_conf",
    "write_dynamic_frame_from_jdbc_conf",
    "write_from_jdbc_conf",
    "forEachBatch",
    "transition_s3_path",
    "transition_table",
    "create_sample_dynamic_frame_from_catalog",
    "create_sample_dynamic_frame_from_options",
    "add_ingestion_time_columns",
    "begin_transaction",
    "commit_transaction",
    "cancel_transaction",
)


class GlueLogger:
    """``GlueContext.get_logger()``: log4j-style ``info``/``warn``/``error`` lines on the driver's stderr."""

    def __init__(self) -> None:
        self._log = logging.getLogger("GlueLogger")
        if not self._log.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s GlueLogger: %(message)s"))
            self._log.addHandler(handler)
            self._log.setLevel(logging.INFO)
            self._log.propagate = False

    def info(self, message) -> None:
        self._log.info("%s", message)

    def warn(self, message) -> None:
        self._log.warning("%s", message)

    warning = warn

    def error(self, message) -> None:
        self._log.error("%s", message)

    def debug(self, message) -> None:
        self._log.debug("%s", message)


class GlueContext:
    """Wraps a SparkContext; ``spark_session`` is the SparkSession of the script."""

    def __init__(self, sparkContext, **options):
        from pyspark.sql import SparkSession

        self._sc = sparkContext
        self.spark_session = SparkSession.builder.getOrCreate()
        self.options = options
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.create_data_frame = DataFrameReader(self)
        self.write_dynamic_frame = DynamicFrameWriter(self)
        install()

    def get_logger(self) -> GlueLogger:
        return GlueLogger()

    def create_dynamic_frame_from_catalog(self, database=None, table_name=None, **kwargs):
        return self.create_dynamic_frame.from_catalog(database, table_name, **kwargs)

    def create_dynamic_frame_from_options(self, connection_type, connection_options=None, format=None, **kwargs):
        return self.create_dynamic_frame.from_options(connection_type, connection_options, format, **kwargs)

    def create_data_frame_from_catalog(self, database=None, table_name=None, **kwargs):
        return self.create_data_frame.from_catalog(database, table_name, **kwargs)

    def create_data_frame_from_options(self, connection_type, connection_options=None, format=None, **kwargs):
        return self.create_data_frame.from_options(connection_type, connection_options, format, **kwargs)

    def write_dynamic_frame_from_options(self, frame, connection_type, connection_options=None, format=None, **kwargs):
        return self.write_dynamic_frame.from_options(frame, connection_type, connection_options, format, **kwargs)

    def write_dynamic_frame_from_catalog(self, frame, database=None, table_name=None, **kwargs):
        return self.write_dynamic_frame.from_catalog(frame, database, table_name, **kwargs)

    def write_from_options(self, frame_or_dfc, connection_type, connection_options=None, format=None, **kwargs):
        """Write a DynamicFrame, or each frame of a ``DynamicFrameCollection``, with ``from_options``."""
        frames = frame_or_dfc.values() if hasattr(frame_or_dfc, "keys") else [frame_or_dfc]
        for frame in frames:
            self.write_dynamic_frame.from_options(frame, connection_type, connection_options, format, **kwargs)

    def getSink(self, connection_type, format=None, transformation_ctx="", **options):
        """A :class:`~awsglue.data_sink.DataSink` writing to ``connection_type`` (``s3``)."""
        from awsglue.data_sink import DataSink

        return DataSink(self, connection_type, format, transformation_ctx, options)

    def getSource(self, connection_type, format=None, transformation_ctx="", push_down_predicate="", **options):
        """A :class:`~awsglue.data_source.DataSource` reading from ``connection_type`` (``s3``)."""
        from awsglue.data_source import DataSource

        return DataSource(self, connection_type, format, transformation_ctx, push_down_predicate, options)

    def purge_s3_path(self, s3_path, options=None, transformation_ctx=""):
        """Delete the objects under ``s3_path`` older than ``retentionPeriod`` hours (168 by default).

        ``excludeStorageClasses`` keeps objects of those storage classes; ``manifestFilePath`` is
        not supported locally.
        """
        options = dict(options or {})
        retention = float(options.pop("retentionPeriod", DEFAULT_RETENTION_HOURS))
        excluded = set(options.pop("excludeStorageClasses", []) or [])
        _read._check_options("GlueContext.purge_s3_path", "options", options, set(), CONTEXT_PAGE)
        if excluded:
            raise unsupported("GlueContext.purge_s3_path", CONTEXT_PAGE, "excludeStorageClasses")
        cutoff = time.time() - retention * 3600
        files = [f for f in list_files(s3_path, data_only=False) if f.modified <= cutoff]
        delete_objects(files)

    def purge_table(self, database, table_name, options=None, transformation_ctx="", catalog_id=None):
        """:meth:`purge_s3_path` on the table's location and on each partition's own location."""
        import boto3

        table = describe_table(database, table_name)
        locations = {table.location} if table.location else set()
        glue = boto3.client("glue")
        for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table_name):
            locations.update((p.get("StorageDescriptor") or {}).get("Location") for p in page.get("Partitions", []))
        for location in sorted(filter(None, locations)):
            self.purge_s3_path(location, options, transformation_ctx)

    def catalog_columns(self, database, table_name, catalog_id=None) -> list[tuple[str, str]]:
        """The catalog table's columns then partition keys, as ``(name, type)`` (for ``match_catalog``)."""
        if catalog_id:
            raise unsupported("ResolveChoice match_catalog", CONTEXT_PAGE, "catalog_id")
        table = describe_table(database, table_name)
        return [*table.columns, *table.keys]

    def __getattr__(self, name):
        if name in _NOT_LOCAL:
            raise unsupported(f"GlueContext.{name}", CONTEXT_PAGE)
        raise AttributeError(f"'GlueContext' object has no attribute {name!r}")


class DynamicFrameReader:
    """``glueContext.create_dynamic_frame``: ``from_catalog``, ``from_options``, ``from_rdd``."""

    PAGE = "aws-glue-api-crawler-pyspark-extensions-dynamic-frame-reader.html"

    def __init__(self, glue_context: GlueContext):
        self._glue_context = glue_context

    def from_catalog(
        self,
        database=None,
        table_name=None,
        redshift_tmp_dir="",
        transformation_ctx="",
        push_down_predicate="",
        additional_options=None,
        catalog_id=None,
        **kwargs,
    ):
        database = database or kwargs.pop("name_space", None)
        table_name = table_name or kwargs.pop("table_name", None)
        _no_extra("create_dynamic_frame.from_catalog", kwargs, self.PAGE)
        return _read.from_catalog(
            self._glue_context,
            database,
            table_name,
            transformation_ctx,
            push_down_predicate,
            dict(additional_options or {}),
            catalog_id,
            "create_dynamic_frame.from_catalog",
        )

    def from_options(
        self,
        connection_type,
        connection_options=None,
        format=None,
        format_options=None,
        transformation_ctx="",
        push_down_predicate="",
        **kwargs,
    ):
        _no_extra("create_dynamic_frame.from_options", kwargs, self.PAGE)
        return _read.from_options(
            self._glue_context,
            connection_type,
            dict(connection_options or {}),
            format,
            dict(format_options or {}),
            transformation_ctx,
            push_down_predicate,
            "create_dynamic_frame.from_options",
        )

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        raise unsupported(f"create_dynamic_frame.{name}", self.PAGE)

    def from_rdd(self, data, name, schema=None, sample_ratio=None):
        """A DynamicFrame of an RDD (or list) of rows, with Spark's schema inference."""
        from awsglue.dynamicframe import DynamicFrame

        df = self._glue_context.spark_session.createDataFrame(data, schema=schema, samplingRatio=sample_ratio)
        return DynamicFrame(df, self._glue_context, name)


class DataFrameReader:
    """``glueContext.create_data_frame``: the same sources as Spark DataFrames."""

    def __init__(self, glue_context: GlueContext):
        self._glue_context = glue_context

    def from_catalog(self, database=None, table_name=None, **kwargs):
        return self._glue_context.create_dynamic_frame.from_catalog(database, table_name, **kwargs).toDF()

    def from_options(self, connection_type, connection_options=None, format=None, **kwargs):
        frames = self._glue_context.create_dynamic_frame
        return frames.from_options(connection_type, connection_options, format, **kwargs).toDF()


class DynamicFrameWriter:
    """``glueContext.write_dynamic_frame``: ``from_options`` (s3) and ``from_catalog``."""

    PAGE = "aws-glue-api-crawler-pyspark-extensions-dynamic-frame-writer.html"

    def __init__(self, glue_context: GlueContext):
        self._glue_context = glue_context

    def from_options(
        self,
        frame,
        connection_type,
        connection_options=None,
        format=None,
        format_options=None,
        transformation_ctx="",
        **kwargs,
    ):
        call = "write_dynamic_frame.from_options"
        _no_extra(call, kwargs, self.PAGE)
        if connection_type != "s3":
            raise unsupported(call, _read.S3_PAGE, f"connection_type {connection_type!r} (only 's3' runs locally)")
        _write.to_s3(frame, dict(connection_options or {}), format, dict(format_options or {}), call)
        return frame

    def from_catalog(
        self,
        frame,
        database=None,
        table_name=None,
        redshift_tmp_dir="",
        transformation_ctx="",
        additional_options=None,
        catalog_id=None,
        **kwargs,
    ):
        call = "write_dynamic_frame.from_catalog"
        database = database or kwargs.pop("name_space", None)
        _no_extra(call, kwargs, self.PAGE)
        if catalog_id:
            raise unsupported(call, self.PAGE, "catalog_id (the local runtime writes the caller's own catalog)")
        _write.to_catalog(frame, database, table_name, dict(additional_options or {}), call)
        return frame

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        raise unsupported(f"write_dynamic_frame.{name}", self.PAGE)


def _no_extra(call: str, kwargs: dict, page: str) -> None:
    if kwargs:
        raise unsupported(call, page, f"argument(s) {', '.join(sorted(kwargs))}")
