"""DynamicFrame sources: ``s3`` paths (``from_options``) and Glue Data Catalog tables (``from_catalog``).

Both read on local Spark through :mod:`localglue` (objects are staged from S3 first) and honour
job bookmarks: with a ``transformation_ctx`` and bookmarks enabled, only files not read by an
earlier committed run are read (:mod:`awsglue._bookmarks`).

CSV values are typed the way a DynamicFrame's self-describing records are: a column whose
values are all integers is ``long``, all numbers ``double``, otherwise ``string``; a column that
mixes numbers and other text is a choice type, e.g. ``choice(long, string)``, to be settled
with ``resolveChoice``. From the catalog, a csv column keeps its catalog type when every value
fits it and becomes ``choice(<catalog type>, string)`` when some do not (AWS's Medicare example).
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from awsglue import _bookmarks
from awsglue._unsupported import unsupported
from localglue.catalog import describe_table, read_table, spark_type
from localglue.s3 import DataFile, list_files, stage

FORMATS_PAGE = "aws-glue-programming-etl-format.html"
S3_PAGE = "aws-glue-programming-etl-connect-s3-home.html"
CATALOG_PAGE = "aws-glue-api-crawler-pyspark-extensions-dynamic-frame-reader.html"

READ_FORMATS = ("csv", "json", "parquet", "glueparquet", "orc")
CSV_OPTIONS = {
    "separator",
    "escaper",
    "quoteChar",
    "multiLine",
    "multiline",
    "withHeader",
    "skipFirst",
    "optimizePerformance",
    "strictCheckForQuoting",
}
JSON_OPTIONS = {"multiLine", "multiline"}
# S3 connection options that tune AWS's file listing and grouping; they do not change what is read.
S3_TUNING = {"groupFiles", "groupSize", "maxBand", "maxFilesInBand", "isFailFast", "useS3ListImplementation"}
S3_READ_OPTIONS = {"paths", "recurse", "exclusions", *S3_TUNING}
CATALOG_OPTIONS = {"catalogPartitionPredicate", *S3_TUNING}
_LONG = r"^\s*[+-]?\d{1,18}\s*$"
_DOUBLE = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
# Catalog (Hive) type -> the DynamicFrame type name it reads as.
GLUE_TYPE_NAMES = {"bigint": "long", "int": "int", "smallint": "short", "tinyint": "byte", "integer": "int"}


def from_options(
    glue_context,
    connection_type: str,
    connection_options: dict,
    fmt: str | None,
    format_options: dict,
    transformation_ctx: str,
    push_down_predicate: str,
    call: str,
):
    """The DynamicFrame of an ``s3`` source (see the module docstring)."""
    from awsglue.dynamicframe import DynamicFrame

    if connection_type != "s3":
        raise unsupported(call, S3_PAGE, f"connection_type {connection_type!r} (only 's3' runs locally)")
    _check_options(call, "connection_options", connection_options, S3_READ_OPTIONS, S3_PAGE)
    if push_down_predicate:
        raise unsupported(call, S3_PAGE, "push_down_predicate on an s3 source (use a catalog table)")
    fmt = _format(call, fmt)
    known = {"csv": CSV_OPTIONS, "json": JSON_OPTIONS}.get(fmt, set())
    _check_options(call, "format_options", format_options, known, FORMATS_PAGE)
    skip_first = fmt == "csv" and _flag(format_options.get("skipFirst"))
    if skip_first and _flag(format_options.get("multiLine", format_options.get("multiline"))):
        raise unsupported(call, FORMATS_PAGE, "csv skipFirst together with multiLine")
    paths = connection_options.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not paths or not all(isinstance(p, str) and p for p in paths):
        raise ValueError(f"{call}: connection_options['paths'] must be a non-empty list of s3:// paths, got {paths!r}")
    files = _listed(paths, _flag(connection_options.get("recurse")), connection_options.get("exclusions"), call)
    files = _bookmarked(transformation_ctx, files)
    spark = glue_context.spark_session
    if not files:
        return DynamicFrame(spark.createDataFrame([], "struct<>"), glue_context, transformation_ctx)
    root = stage(files)
    local = [str(root.joinpath(*f.relative.split("/"))) for f in files]
    if fmt == "csv":
        lines = _without_first_lines(spark, local) if skip_first else local
        df = spark.read.options(**csv_reader_options(format_options)).csv(lines)
        if not _flag(format_options.get("withHeader")):
            df = df.toDF(*(f"col{i}" for i in range(len(df.columns))))
        df, choices = infer_types(df)
        return DynamicFrame(df, glue_context, transformation_ctx, choices=choices)
    if fmt == "json":
        multiline = _flag(format_options.get("multiLine", format_options.get("multiline")))
        return DynamicFrame(spark.read.json(local, multiLine=multiline), glue_context, transformation_ctx)
    reader = spark.read.orc if fmt == "orc" else spark.read.parquet
    return DynamicFrame(reader(*local), glue_context, transformation_ctx)


def from_catalog(
    glue_context,
    database: str,
    table_name: str,
    transformation_ctx: str,
    push_down_predicate: str,
    additional_options: dict,
    catalog_id: str | None,
    call: str,
):
    """The DynamicFrame of a catalog table (see :func:`localglue.catalog.read_table`)."""
    from awsglue.dynamicframe import DynamicFrame

    if not database or not table_name:
        raise ValueError(f"{call}: database and table_name are required, got {database!r}, {table_name!r}")
    _check_options(call, "additional_options", additional_options, CATALOG_OPTIONS, CATALOG_PAGE)
    if catalog_id:
        raise unsupported(call, CATALOG_PAGE, "catalog_id (the local runtime reads the caller's own catalog)")
    predicates = [p for p in (push_down_predicate, additional_options.get("catalogPartitionPredicate")) if p]
    predicate = predicates[0] if len(predicates) == 1 else " AND ".join(f"({p})" for p in predicates)
    select = None
    if transformation_ctx and _bookmarks.state().enabled:
        select = lambda files: _bookmarked(transformation_ctx, files)  # noqa: E731
    spark = glue_context.spark_session
    df = read_table(spark, database, table_name, predicate=predicate, select_files=select, text_columns=True)
    table = describe_table(database, table_name)
    if table.format.name != "csv":
        return DynamicFrame(df, glue_context, transformation_ctx)
    df, choices = infer_types(df, dict(table.columns))
    return DynamicFrame(df, glue_context, transformation_ctx, choices=choices)


def csv_reader_options(format_options: dict[str, Any]) -> dict[str, str]:
    """Spark csv reader options for Glue's csv ``format_options`` (every column read as text)."""
    quote = str(format_options.get("quoteChar", '"'))
    options = {
        "sep": str(format_options.get("separator", ",")),
        "quote": "" if quote == "-1" else quote,
        "header": "true" if _flag(format_options.get("withHeader")) else "false",
        "multiLine": "true" if _flag(format_options.get("multiLine", format_options.get("multiline"))) else "false",
        "mode": "PERMISSIVE",
    }
    if format_options.get("escaper"):
        options["escape"] = str(format_options["escaper"])
    return options


def infer_types(df, catalog: dict[str, str] | None = None):
    """Type text columns as a DynamicFrame would (module docstring); returns ``(df, choices)``.

    :param catalog: column -> catalog type for columns read from a catalog table; others are inferred.
    """
    from pyspark.sql import functions as F

    catalog = catalog or {}
    checks = []
    for name in df.columns:
        column = F.col(f"`{name}`")
        target = catalog.get(name)
        if target is not None:
            fits = column.cast(spark_type(target)).isNotNull() if target.lower() != "string" else F.lit(True)
            checks.append(F.sum(F.when(column.isNotNull() & ~fits, 1).otherwise(0)).alias(f"{name}\0misfit"))
        else:
            checks += [
                F.count(column).alias(f"{name}\0n"),
                F.sum(F.when(column.rlike(_LONG), 1).otherwise(0)).alias(f"{name}\0long"),
                F.sum(F.when(column.rlike(_DOUBLE), 1).otherwise(0)).alias(f"{name}\0double"),
            ]
    if not checks:
        return df, {}
    counts = df.agg(*checks).first().asDict()
    columns, choices = [], {}
    for name in df.columns:
        column = F.col(f"`{name}`")
        target = catalog.get(name)
        if target is not None:
            glue_name = GLUE_TYPE_NAMES.get(target.lower(), target.lower())
            if target.lower() == "string" or not counts[f"{name}\0misfit"]:
                columns.append(column.cast(spark_type(target)).alias(name))
            else:
                columns.append(column.alias(name))
                choices[name] = (glue_name, "string")
            continue
        n, longs, doubles = counts[f"{name}\0n"], counts[f"{name}\0long"], counts[f"{name}\0double"]
        if n and longs == n:
            columns.append(column.cast("long").alias(name))
        elif n and doubles == n:
            columns.append(column.cast("double").alias(name))
        else:
            columns.append(column.alias(name))
            if doubles:
                choices[name] = ("long" if longs == doubles else "double", "string")
    return df.select(*columns), choices


def _without_first_lines(spark, files: list[str]):
    """The lines of ``files`` but each file's first (``skipFirst``), for Spark's csv reader."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    lines = spark.read.text(files).select(
        "value", F.input_file_name().alias("file"), F.monotonically_increasing_id().alias("i")
    )
    numbered = lines.withColumn("n", F.row_number().over(Window.partitionBy("file").orderBy("i")))
    return numbered.where("n > 1").orderBy("file", "i").rdd.map(lambda row: row.value)


def _listed(paths: list[str], recurse: bool, exclusions: Any, call: str) -> list[DataFile]:
    patterns: list[str] = []
    if exclusions:
        try:
            patterns = json.loads(exclusions) if isinstance(exclusions, str) else list(exclusions)
        except ValueError:
            raise ValueError(
                f"{call}: connection_options['exclusions'] must be a JSON list of glob patterns, got {exclusions!r}"
            ) from None
    files = []
    for i, path in enumerate(paths):
        for f in list_files(path, recurse=recurse):
            if not any(fnmatch.fnmatchcase(f.uri, p) or fnmatch.fnmatchcase(f.relative, p) for p in patterns):
                # Under the path's index: two paths may hold files of the same relative name.
                files.append(DataFile(f.uri, f"{i}/{f.relative}", f.size, f.modified, f.etag))
    return files


def _bookmarked(ctx: str, files: list[DataFile]) -> list[DataFile]:
    chosen = set(_bookmarks.state().select(ctx, [(f.uri, f.modified) for f in files]))
    return [f for f in files if f.uri in chosen]


def _format(call: str, fmt: str | None) -> str:
    fmt = (fmt or "").lower()
    if fmt not in READ_FORMATS:
        raise unsupported(call, FORMATS_PAGE, f"format {fmt!r} (supported locally: {', '.join(READ_FORMATS)})")
    return "parquet" if fmt == "glueparquet" else fmt


def _check_options(call: str, what: str, given: dict, known: set[str], page: str) -> None:
    unknown = sorted(set(given or {}) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise unsupported(call, page, f"{what} {', '.join(map(repr, unknown))} (supported locally: {allowed})")


def _flag(value: Any) -> bool:
    return str(value).strip().lower() == "true" if value is not None else False
