"""Read a Glue Data Catalog table on local PySpark, as Glue's ``from_catalog`` does on AWS.

:func:`read_table` resolves the table with ``GetTable``, finds where its data is (the table's
``StorageDescriptor.Location``; for a partitioned table each partition's own location, listed
with ``GetPartitions``) and reads it in the table's format with the table's column types:

- **format**: ``Parameters["classification"]`` of the table (or of its storage descriptor);
  without one, the SerDe library or InputFormat (``*Parquet*``, ``*JsonSerDe``,
  ``OpenCSVSerde`` or ``LazySimpleSerDe``). Supported: parquet, csv, json.
- **csv**: the delimiter from the SerDe parameters (``field.delim``, ``separatorChar`` for
  OpenCSVSerde), ``skip.header.line.count`` (0 or 1; from the SerDe or table parameters),
  ``quoteChar``/``escapeChar`` (OpenCSVSerde; LazySimpleSerDe does not unquote) and
  ``serialization.null.format``. Columns are positional and typed by the catalog.
- **columns**: the catalog's columns, in its order and types (Hive type names such as
  ``bigint``, ``decimal(10,2)``, ``array<string>``; ``char``/``varchar`` read as string).
  Parquet columns are matched by name (case-insensitively) and cast; a column the files lack
  reads as null. JSON is read with the catalog schema.
- **partitions**: the partition keys follow the data columns, as literals of their catalog
  type (``__HIVE_DEFAULT_PARTITION__`` is null). Each partition is read at its own location
  (partitions may sit in different data generations) and the parts are unioned, which suits
  the local data sizes this module is for. No partitions: an empty DataFrame, same schema.

Data files are what Hadoop tools treat as data (see :func:`localglue.s3.is_data_file`);
``s3://`` locations are copied to local folders first (:mod:`localglue.s3`). Anything that
cannot be read raises :class:`CatalogReadError` naming ``database.table``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

from localglue.s3 import is_data_file, local_path

SUPPORTED_FORMATS = ("parquet", "csv", "json")
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
_CHAR_TYPE = re.compile(r"\b(?:var)?char\s*\(\s*\d+\s*\)", re.IGNORECASE)


class CatalogReadError(Exception):
    """A catalog table cannot be read; the message names ``database.table`` and why."""


@dataclass(frozen=True)
class TableFormat:
    """How a table's files are read: the format name and Spark reader options."""

    name: str
    options: dict[str, str] = field(default_factory=dict)


def read_table(spark, database: str, table: str, *, glue=None, s3=None):
    """The rows of catalog table ``database.table`` as a Spark DataFrame (see the module docstring).

    :param spark: the SparkSession to read with.
    :param database: the Glue database.
    :param table: the table in ``database``.
    :param glue: boto3 Glue client; ``boto3.client("glue")`` if None (it honours
        ``AWS_ENDPOINT_URL``, which the local emulator sets for its job runs).
    :param s3: boto3 S3 client for ``s3://`` locations; ``boto3.client("s3")`` if None.
    :raises CatalogReadError: no such database or table, a format that is not supported, a
        location without data files.
    """
    from pyspark.sql import types as T

    name = f"{database}.{table}"
    if glue is None:
        import boto3

        glue = boto3.client("glue")
    definition = _get_table(glue, database, table)
    descriptor = definition.get("StorageDescriptor") or {}
    table_format = table_format_of(definition, name)
    columns = [(c["Name"], spark_type(c["Type"], name, c["Name"])) for c in descriptor.get("Columns") or []]
    keys = [(k["Name"], spark_type(k["Type"], name, k["Name"])) for k in definition.get("PartitionKeys") or []]
    data_schema = T.StructType([T.StructField(c, t) for c, t in columns])

    if not keys:
        location = descriptor.get("Location")
        if not location:
            kind = definition.get("TableType") or "table"
            raise CatalogReadError(f"{name}: the {kind} has no StorageDescriptor.Location to read")
        return _read_location(spark, name, location, table_format, data_schema, s3)

    from pyspark.sql import functions as F

    parts = []
    for partition in _partitions(glue, database, table):
        values = partition.get("Values") or []
        where = ", ".join(f"{k}={v}" for (k, _), v in zip(keys, values, strict=False))
        if len(values) != len(keys):
            raise CatalogReadError(f"{name}: partition {values} has {len(values)} values for {len(keys)} keys")
        location = (partition.get("StorageDescriptor") or {}).get("Location")
        if not location:
            raise CatalogReadError(f"{name}: partition {where} has no StorageDescriptor.Location")
        df = _read_location(spark, name, location, table_format, data_schema, s3, what=f"partition {where}")
        literals = [
            F.lit(None if value == HIVE_DEFAULT_PARTITION else value).cast(key_type).alias(key)
            for (key, key_type), value in zip(keys, values, strict=True)
        ]
        parts.append(df.select("*", *literals))
    if not parts:
        schema = T.StructType([*data_schema.fields, *(T.StructField(k, t) for k, t in keys)])
        return spark.createDataFrame([], schema)
    return reduce(lambda left, right: left.unionByName(right), parts)


def table_format_of(definition: dict[str, Any], name: str = "") -> TableFormat:
    """The format of a ``GetTable`` table and its Spark reader options; see the module docstring."""
    name = name or f"{definition.get('DatabaseName')}.{definition.get('Name')}"
    descriptor = definition.get("StorageDescriptor") or {}
    parameters = {**(descriptor.get("Parameters") or {}), **(definition.get("Parameters") or {})}
    serde = descriptor.get("SerdeInfo") or {}
    library = (serde.get("SerializationLibrary") or "").lower()
    serde_parameters = serde.get("Parameters") or {}
    input_format = (descriptor.get("InputFormat") or "").lower()

    classification = (parameters.get("classification") or "").strip().lower()
    if not classification:
        if "parquet" in library or "parquet" in input_format:
            classification = "parquet"
        elif "json" in library:
            classification = "json"
        elif "opencsvserde" in library or "lazysimpleserde" in library:
            classification = "csv"
        else:
            raise CatalogReadError(
                f"{name}: cannot tell the table's format: no Parameters.classification, SerDe "
                f"{serde.get('SerializationLibrary')!r}, InputFormat {descriptor.get('InputFormat')!r} "
                f"(supported: {', '.join(SUPPORTED_FORMATS)})"
            )
    if classification not in SUPPORTED_FORMATS:
        raise CatalogReadError(
            f"{name}: classification {classification!r} is not supported (supported: {', '.join(SUPPORTED_FORMATS)})"
        )
    if classification != "csv":
        return TableFormat(classification)

    options: dict[str, str] = {}
    if "opencsvserde" in library:
        options["sep"] = serde_parameters.get("separatorChar", ",")
        options["quote"] = serde_parameters.get("quoteChar", '"')
        options["escape"] = serde_parameters.get("escapeChar", "\\")
    else:
        options["sep"] = serde_parameters.get("field.delim") or serde_parameters.get("serialization.format") or ","
        if "lazysimpleserde" in library:
            options["quote"] = ""  # LazySimpleSerDe keeps quotes as data
        if "escape.delim" in serde_parameters:
            options["escape"] = serde_parameters["escape.delim"]
    if "serialization.null.format" in serde_parameters:
        options["nullValue"] = serde_parameters["serialization.null.format"]
    skip = serde_parameters.get("skip.header.line.count", parameters.get("skip.header.line.count", "0"))
    if str(skip).strip() not in ("0", "1"):
        raise CatalogReadError(f"{name}: skip.header.line.count {skip!r} is not supported (0 or 1)")
    options["header"] = "true" if str(skip).strip() == "1" else "false"
    return TableFormat("csv", options)


def spark_type(hive_type: str, name: str = "", column: str = ""):
    """The Spark type of a catalog column type (Hive DDL: ``bigint``, ``decimal(10,2)``, ...)."""
    from pyspark.sql.types import _parse_datatype_string

    try:
        return _parse_datatype_string(_CHAR_TYPE.sub("string", hive_type.strip()))
    except Exception as exc:
        raise CatalogReadError(f"{name}: column {column!r} has a type Spark cannot read: {hive_type!r}") from exc


def _get_table(glue, database: str, table: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    name = f"{database}.{table}"
    try:
        return glue.get_table(DatabaseName=database, Name=table)["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityNotFoundException":
            raise
    try:
        glue.get_database(Name=database)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityNotFoundException":
            raise
        raise CatalogReadError(f"{name}: database {database!r} not found in the Glue Data Catalog") from None
    raise CatalogReadError(f"{name}: table {table!r} not found in database {database!r}")


def _partitions(glue, database: str, table: str) -> list[dict[str, Any]]:
    """Every partition of the table, sorted by their values (a stable union order)."""
    partitions = []
    for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table):
        partitions.extend(page.get("Partitions", []))
    return sorted(partitions, key=lambda p: p.get("Values") or [])


def _data_files(root: Path) -> list[str]:
    if root.is_file():
        return [str(root)] if is_data_file(root.name, root.stat().st_size) else []
    if not root.is_dir():
        return []
    return sorted(
        str(path)
        for path in root.rglob("*")
        if path.is_file() and is_data_file(path.relative_to(root).as_posix(), path.stat().st_size)
    )


def _read_location(spark, name: str, location: str, table_format: TableFormat, schema, s3, what: str = "table"):
    """The files at ``location`` in ``table_format``, as ``schema``'s columns and types."""
    from pyspark.sql import functions as F

    files = _data_files(local_path(location, s3=s3))
    if not files:
        raise CatalogReadError(f"{name}: the {what}'s location {location} holds no data files")
    # Explicit files: no partition discovery from folder names, nothing hidden read.
    if table_format.name == "csv":
        return spark.read.schema(schema).options(**table_format.options).csv(files)
    if table_format.name == "json":
        return spark.read.schema(schema).json(files)
    df = spark.read.parquet(*files)
    present = {column.lower(): column for column in df.columns}
    return df.select(
        *(
            (F.col(f"`{present[f.name.lower()]}`") if f.name.lower() in present else F.lit(None))
            .cast(f.dataType)
            .alias(f.name)
            for f in schema.fields
        )
    )
