"""``DataSink`` (``glueContext.getSink``): an s3 sink that can create and update its catalog table.

Typical use, as in AWS's "Updating the schema and adding new partitions in the Data Catalog"::

    sink = glueContext.getSink(connection_type="s3", path="s3://bucket/sales/",
                               enableUpdateCatalog=True, partitionKeys=["year"])
    sink.setFormat("glueparquet")
    sink.setCatalogInfo(catalogDatabase="sales_db", catalogTableName="sales")
    sink.writeFrame(frame)
"""

from __future__ import annotations

from awsglue import _write
from awsglue._read import _check_options, _flag
from awsglue._unsupported import unsupported

PAGE = "aws-glue-api-crawler-pyspark-extensions-data-sink.html"
CATALOG_PAGE = "update-from-job.html"
SINK_OPTIONS = {"path", "partitionKeys", "compression", "enableUpdateCatalog", "updateBehavior"}


class DataSink:
    """Writes DynamicFrames to ``options["path"]``; see the module docstring."""

    def __init__(self, glue_context, connection_type, format=None, transformation_ctx="", options=None):
        if connection_type != "s3":
            raise unsupported("GlueContext.getSink", PAGE, f"connection_type {connection_type!r} (only 's3' locally)")
        self._glue_context = glue_context
        self._options = dict(options or {})
        _check_options("GlueContext.getSink", "options", self._options, SINK_OPTIONS, CATALOG_PAGE)
        self._format = format
        self._format_options: dict = {}
        self._catalog: tuple[str, str] | None = None
        self.transformation_ctx = transformation_ctx

    def setFormat(self, format, **options):
        """The format written (``glueparquet``, ``parquet``, ``csv``, ``json``) and its format options."""
        self._format = format
        self._format_options = options

    def setCatalogInfo(self, catalogDatabase, catalogTableName, catalogId=None):
        """The catalog table that ``enableUpdateCatalog`` creates or updates."""
        if catalogId:
            raise unsupported("DataSink.setCatalogInfo", CATALOG_PAGE, "catalogId (the caller's own catalog only)")
        self._catalog = (catalogDatabase, catalogTableName)

    def writeFrame(self, dynamic_frame, info=""):
        """Append ``dynamic_frame`` at the path; then create or update the catalog table if asked to."""
        call = "DataSink.writeFrame"
        update = _flag(self._options.get("enableUpdateCatalog"))
        if update and self._catalog is None:
            raise ValueError(
                f"{call}: enableUpdateCatalog=True needs setCatalogInfo(catalogDatabase, catalogTableName)"
            )
        connection = {k: self._options[k] for k in ("path", "partitionKeys", "compression") if k in self._options}
        written = _write.to_s3(dynamic_frame, connection, self._format, self._format_options, call, partitions=update)
        if update:
            database, table = self._catalog
            _write.update_catalog(
                dynamic_frame,
                database,
                table,
                connection["path"],
                list(connection.get("partitionKeys") or []),
                (self._format or "").lower(),
                self._format_options,
                self._options.get("updateBehavior", "UPDATE_IN_DATABASE"),
                written,
                call,
            )
        return dynamic_frame

    def write(self, dynamic_frame_or_dfc, info=""):
        """Write a DynamicFrame, or each frame of a ``DynamicFrameCollection``."""
        frames = dynamic_frame_or_dfc.values() if hasattr(dynamic_frame_or_dfc, "keys") else [dynamic_frame_or_dfc]
        for frame in frames:
            self.writeFrame(frame, info)
