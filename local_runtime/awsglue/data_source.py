"""``DataSource`` (``glueContext.getSource``): an s3 source read with ``getFrame()``."""

from __future__ import annotations

from awsglue import _read


class DataSource:
    """Reads ``options["paths"]`` in the format given here or with :meth:`setFormat`."""

    def __init__(self, glue_context, connection_type, format, transformation_ctx, push_down_predicate, options):
        self._glue_context = glue_context
        self._connection_type = connection_type
        self._format = format
        self._format_options: dict = {}
        self._transformation_ctx = transformation_ctx
        self._push_down_predicate = push_down_predicate
        self._options = dict(options or {})

    def setFormat(self, format, **options):
        self._format = format
        self._format_options = options

    def getFrame(self, **options):
        """The DynamicFrame of the source (``create_dynamic_frame.from_options`` with these settings)."""
        return _read.from_options(
            self._glue_context,
            self._connection_type,
            {**self._options, **options},
            self._format,
            self._format_options,
            self._transformation_ctx,
            self._push_down_predicate,
            "DataSource.getFrame",
        )
