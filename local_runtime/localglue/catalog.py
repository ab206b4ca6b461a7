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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from localglue.s3 import DataFile, list_files, stage

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


@dataclass(frozen=True)
class CatalogTable:
    """What reading or writing a catalog table needs from its ``GetTable`` definition."""

    database: str
    name: str
    definition: dict[str, Any]
    format: TableFormat
    columns: list[tuple[str, str]]
    keys: list[tuple[str, str]]

    @property
    def full_name(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def location(self) -> str:
        return (self.definition.get("StorageDescriptor") or {}).get("Location") or ""


def describe_table(database: str, table: str, *, glue=None) -> CatalogTable:
    """Catalog table ``database.table``: format, columns (name, catalog type) and partition keys.

    :param glue: boto3 Glue client; ``boto3.client("glue")`` if None (it honours
        ``AWS_ENDPOINT_URL``, which the local emulator sets for its job runs).
    :raises CatalogReadError: no such database or table, or a format that is not supported.
    """
    glue = _glue(glue)
    definition = _get_table(glue, database, table)
    descriptor = definition.get("StorageDescriptor") or {}
    name = f"{database}.{table}"
    return CatalogTable(
        database=database,
        name=table,
        definition=definition,
        format=table_format_of(definition, name),
        columns=[(c["Name"], c["Type"]) for c in descriptor.get("Columns") or []],
        keys=[(k["Name"], k["Type"]) for k in definition.get("PartitionKeys") or []],
    )


def read_table(
    spark,
    database: str,
    table: str,
    *,
    glue=None,
    s3=None,
    predicate: str = "",
    select_files: Callable[[list[DataFile]], list[DataFile]] | None = None,
    text_columns: bool = False,
):
    """The rows of catalog table ``database.table`` as a Spark DataFrame (see the module docstring).

    :param spark: the SparkSession to read with.
    :param database: the Glue database.
    :param table: the table in ``database``.
    :param glue: boto3 Glue client; ``boto3.client("glue")`` if None (it honours
        ``AWS_ENDPOINT_URL``, which the local emulator sets for its job runs).
    :param s3: boto3 S3 client for ``s3://`` locations; ``boto3.client("s3")`` if None.
    :param predicate: a Spark SQL condition on the partition keys (Glue's
        ``push_down_predicate``): only the partitions it holds for are read.
    :param select_files: picks, from every data file of the table, the ones to read (job
        bookmarks); a location left with no file then reads as no rows instead of failing.
    :param text_columns: read a csv table's data columns as text, for callers that type them.
    :raises CatalogReadError: no such database or table, a format that is not supported, a
        location without data files, a predicate that is not valid on the partition keys.
    """
    from pyspark.sql import types as T

    source = describe_table(database, table, glue=glue)
    name = source.full_name
    text = text_columns and source.format.name == "csv"
    columns = [(c, T.StringType() if text else spark_type(t, name, c)) for c, t in source.columns]
    keys = [(k, spark_type(t, name, k)) for k, t in source.keys]
    data_schema = T.StructType([T.StructField(c, t) for c, t in columns])
    read = _LocationReader(spark, name, source.format, data_schema, s3, select_files)

    if not keys:
        if predicate:
            raise CatalogReadError(f"{name}: a partition predicate was given but the table has no partition keys")
        if not source.location:
            kind = source.definition.get("TableType") or "table"
            raise CatalogReadError(f"{name}: the {kind} has no StorageDescriptor.Location to read")
        return read(source.location)

    from pyspark.sql import functions as F

    partitions = _partitions(_glue(glue), database, table)
    for partition in partitions:
        if len(partition.get("Values") or []) != len(keys):
            values = partition.get("Values") or []
            raise CatalogReadError(f"{name}: partition {values} has {len(values)} values for {len(keys)} keys")
    if predicate:
        partitions = _matching(spark, name, partitions, keys, predicate)
    parts = []
    for partition in partitions:
        values = partition["Values"]
        where = ", ".join(f"{k}={v}" for (k, _), v in zip(keys, values, strict=True))
        location = (partition.get("StorageDescriptor") or {}).get("Location")
        if not location:
            raise CatalogReadError(f"{name}: partition {where} has no StorageDescriptor.Location")
        df = read(location, what=f"partition {where}")
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


def _glue(glue):
    if glue is not None:
        return glue
    import boto3

    return boto3.client("glue")


def _matching(spark, name: str, partitions: list[dict[str, Any]], keys, predicate: str) -> list[dict[str, Any]]:
    """The partitions whose typed key values satisfy ``predicate`` (evaluated by Spark, as on Glue)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    schema = T.StructType(
        [T.StructField("__index", T.IntegerType()), *(T.StructField(k, T.StringType()) for k, _ in keys)]
    )
    rows = [(i, *(None if v == HIVE_DEFAULT_PARTITION else v for v in p["Values"])) for i, p in enumerate(partitions)]
    typed = spark.createDataFrame(rows, schema).select("__index", *(F.col(f"`{k}`").cast(t).alias(k) for k, t in keys))
    try:
        chosen = {row["__index"] for row in typed.where(predicate).select("__index").collect()}
    except Exception as exc:  # Spark's AnalysisException / ParseException
        allowed = ", ".join(k for k, _ in keys)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CatalogReadError(
            f"{name}: partition predicate {predicate!r} is not valid on the partition keys ({allowed}): {first}"
        ) from None
    return [p for i, p in enumerate(partitions) if i in chosen]


@dataclass
class _LocationReader:
    """Reads the data files at a location in a table's format, as its catalog columns and types."""

    spark: Any
    name: str
    table_format: TableFormat
    schema: Any
    s3: Any
    select_files: Callable[[list[DataFile]], list[DataFile]] | None

    def __call__(self, location: str, what: str = "table"):
        from pyspark.sql import functions as F

        files = list_files(location, s3=self.s3)
        if not files:
            raise CatalogReadError(f"{self.name}: the {what}'s location {location} holds no data files")
        if self.select_files is not None:
            files = self.select_files(files)
            if not files:
                return self.spark.createDataFrame([], self.schema)
        root = stage(files, s3=self.s3)
        # Explicit files: no partition discovery from folder names, nothing hidden read.
        paths = [str(root.joinpath(*f.relative.split("/"))) for f in files]
        if self.table_format.name == "csv":
            return self.spark.read.schema(self.schema).options(**self.table_format.options).csv(paths)
        if self.table_format.name == "json":
            return self.spark.read.schema(self.schema).json(paths)
        df = self.spark.read.parquet(*paths)
        present = {column.lower(): column for column in df.columns}
        return df.select(
            *(
                (F.col(f"`{present[f.name.lower()]}`") if f.name.lower() in present else F.lit(None))
                .cast(f.dataType)
                .alias(f.name)
                for f in self.schema.fields
            )
        )
