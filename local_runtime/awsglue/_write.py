"""DynamicFrame sinks: ``s3`` paths (``from_options``, ``getSink``) and catalog tables (``from_catalog``).

Writes append, as Glue's do: each write adds new part files under the path (``partitionKeys``
as ``key=value/`` folders). With ``enableUpdateCatalog`` the sink also creates the catalog
table when it is missing (columns from the frame, format from the sink), updates its schema
(``updateBehavior="UPDATE_IN_DATABASE"``, the default; ``"LOG"`` keeps it) and registers the
partitions the write created, each at ``<path>/key=value/``.
"""

from __future__ import annotations

import sys
from typing import Any

from awsglue._read import FORMATS_PAGE, S3_PAGE, _check_options, _flag
from awsglue._spark_s3 import install
from awsglue._unsupported import unsupported
from localglue.catalog import HIVE_DEFAULT_PARTITION, describe_table

WRITE_FORMATS = ("csv", "json", "parquet", "glueparquet", "orc")
CATALOG_FORMATS = ("csv", "json", "parquet")
CSV_WRITE_OPTIONS = {"separator", "quoteChar", "escaper", "writeHeader", "optimizePerformance"}
PARQUET_OPTIONS = {"compression", "blockSize", "pageSize", "useGlueParquetWriter"}
S3_WRITE_OPTIONS = {"path", "partitionKeys", "compression"}
UPDATE_BEHAVIORS = ("UPDATE_IN_DATABASE", "LOG")
# How Hive and Glue crawlers describe each format's files.
STORAGE = {
    "parquet": (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    ),
    "csv": (
        "org.apache.hadoop.mapred.TextInputFormat",
        "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
    ),
    "json": (
        "org.apache.hadoop.mapred.TextInputFormat",
        "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "org.openx.data.jsonserde.JsonSerDe",
    ),
}
_ESCAPED = set("\"#%'*/:=?\\\x7f{[]^")


def to_s3(
    frame, connection_options: dict, fmt: str | None, format_options: dict, call: str, *, partitions: bool = False
) -> list[tuple]:
    """Append ``frame`` under ``connection_options["path"]``.

    :param partitions: return the partition values written (one more Spark job; for catalog updates).
    """
    _check_options(call, "connection_options", connection_options, S3_WRITE_OPTIONS, S3_PAGE)
    path = connection_options.get("path")
    if not isinstance(path, str) or not path:
        raise ValueError(f"{call}: connection_options['path'] is required (an s3:// prefix), got {path!r}")
    keys = list(connection_options.get("partitionKeys") or [])
    fmt = (fmt or "").lower()
    if fmt not in WRITE_FORMATS:
        raise unsupported(call, FORMATS_PAGE, f"format {fmt!r} (supported locally: {', '.join(WRITE_FORMATS)})")
    df = frame.toDF()
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise ValueError(f"{call}: partitionKeys {missing} are not fields of the frame ({', '.join(df.columns)})")
    install()
    writer = df.write.mode("append").options(**_writer_options(fmt, format_options, connection_options, call))
    if keys:
        writer = writer.partitionBy(*keys)
    writer.format("parquet" if fmt == "glueparquet" else fmt).save(path)
    if not keys or not partitions:
        return []
    return [tuple(row) for row in df.select(*(f"`{k}`" for k in keys)).distinct().collect()]


def to_catalog(frame, database: str, table_name: str, additional_options: dict, call: str) -> None:
    """Append ``frame`` at catalog table ``database.table_name``'s location, in its format and partitioning."""
    table = describe_table(database, table_name)
    if not table.location:
        raise ValueError(f"{call}: {table.full_name} has no StorageDescriptor.Location to write to")
    options = dict(additional_options or {})
    keys = [k for k, _ in table.keys]
    given = options.pop("partitionKeys", None)
    if given is not None and list(given) != keys:
        raise ValueError(f"{call}: partitionKeys {given} differ from {table.full_name}'s partition keys {keys}")
    update = _flag(options.pop("enableUpdateCatalog", None))
    behavior = options.pop("updateBehavior", "UPDATE_IN_DATABASE")
    _check_options(call, "additional_options", options, set(), S3_PAGE)
    format_options = {}
    if table.format.name == "csv":
        format_options = {"separator": table.format.options.get("sep", ","), "writeHeader": "false"}
        if table.format.options.get("header") == "true":
            format_options["writeHeader"] = "true"
    connection = {"path": table.location, "partitionKeys": keys}
    written = to_s3(frame, connection, table.format.name, format_options, call, partitions=update)
    if update:
        update_catalog(
            frame,
            database,
            table_name,
            table.location,
            keys,
            table.format.name,
            format_options,
            behavior,
            written,
            call,
        )


def update_catalog(
    frame,
    database: str,
    table_name: str,
    path: str,
    keys: list[str],
    fmt: str,
    format_options: dict,
    behavior: str,
    written: list[tuple],
    call: str,
    glue=None,
) -> None:
    """Create or update the table and register the partitions ``written`` (see the module docstring)."""
    from botocore.exceptions import ClientError

    if behavior not in UPDATE_BEHAVIORS:
        raise ValueError(f"{call}: updateBehavior {behavior!r} is not one of {', '.join(UPDATE_BEHAVIORS)}")
    fmt = "parquet" if fmt == "glueparquet" else fmt
    if fmt not in CATALOG_FORMATS:
        raise unsupported(call, S3_PAGE, f"enableUpdateCatalog with format {fmt!r} (locally: csv, json, parquet)")
    if glue is None:
        import boto3

        glue = boto3.client("glue")
    schema = frame.toDF().schema
    columns = [{"Name": f.name, "Type": f.dataType.simpleString()} for f in schema.fields if f.name not in keys]
    partition_keys = [{"Name": k, "Type": schema[k].dataType.simpleString()} for k in keys]
    location = path.rstrip("/") + "/"
    try:
        current = glue.get_table(DatabaseName=database, Name=table_name)["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityNotFoundException":
            raise
        current = None
    if current is None:
        table_input = _table_input(table_name, location, fmt, format_options, columns, partition_keys)
        glue.create_table(DatabaseName=database, TableInput=table_input)
    else:
        descriptor = current.get("StorageDescriptor") or {}
        if [k["Name"] for k in current.get("PartitionKeys") or []] != keys:
            raise ValueError(
                f"{call}: {database}.{table_name} is partitioned by "
                f"{[k['Name'] for k in current.get('PartitionKeys') or []]}, the write by {keys}"
            )
        if _names_types(descriptor.get("Columns")) != _names_types(columns):
            if behavior == "LOG":
                print(
                    f"{call}: {database}.{table_name}'s schema differs from the frame's; kept (updateBehavior=LOG)",
                    file=sys.stderr,
                )
            else:
                table_input = {k: v for k, v in current.items() if k in _TABLE_INPUT_FIELDS}
                table_input["StorageDescriptor"] = {**descriptor, "Columns": columns}
                glue.update_table(DatabaseName=database, TableInput=table_input)
    if written:
        _add_partitions(glue, database, table_name, location, keys, written)


def _add_partitions(glue, database: str, table_name: str, location: str, keys: list[str], written: list[tuple]):
    table = glue.get_table(DatabaseName=database, Name=table_name)["Table"]
    descriptor = table.get("StorageDescriptor") or {}
    wanted = {tuple(_partition_value(v) for v in values) for values in written}
    existing = set()
    for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table_name):
        existing.update(tuple(p["Values"]) for p in page.get("Partitions", []))
    new = sorted(wanted - existing)
    inputs = [
        {
            "Values": list(values),
            "StorageDescriptor": {
                **{k: v for k, v in descriptor.items() if k != "Location"},
                "Location": location + "/".join(f"{k}={_escape(v)}" for k, v in zip(keys, values, strict=True)) + "/",
            },
        }
        for values in new
    ]
    for start in range(0, len(inputs), 100):
        response = glue.batch_create_partition(
            DatabaseName=database, TableName=table_name, PartitionInputList=inputs[start : start + 100]
        )
        errors = [e for e in response.get("Errors", []) if e["ErrorDetail"]["ErrorCode"] != "AlreadyExistsException"]
        if errors:
            detail = errors[0]["ErrorDetail"]
            raise RuntimeError(
                f"cannot register partition {errors[0].get('PartitionValues')} of {database}.{table_name}: "
                f"{detail['ErrorCode']} {detail.get('ErrorMessage', '')}"
            )


_TABLE_INPUT_FIELDS = (
    "Name",
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "TableType",
    "Parameters",
)


def _table_input(
    name: str, location: str, fmt: str, format_options: dict, columns: list[dict], keys: list[dict]
) -> dict[str, Any]:
    input_format, output_format, serde = STORAGE[fmt]
    parameters = {"classification": fmt}
    serde_parameters = {}
    if fmt == "csv":
        serde_parameters["field.delim"] = str(format_options.get("separator", ","))
        if str(format_options.get("writeHeader", "true")).lower() != "false":
            parameters["skip.header.line.count"] = "1"
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": keys,
        "StorageDescriptor": {
            "Columns": columns,
            "Location": location,
            "InputFormat": input_format,
            "OutputFormat": output_format,
            "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters},
            "Parameters": {"classification": fmt},
        },
    }


def _writer_options(fmt: str, format_options: dict, connection_options: dict, call: str) -> dict[str, str]:
    options: dict[str, str] = {}
    compression = connection_options.get("compression")
    if fmt == "csv":
        _check_options(call, "format_options", format_options, CSV_WRITE_OPTIONS, FORMATS_PAGE)
        quote = str(format_options.get("quoteChar", '"'))
        options.update(
            sep=str(format_options.get("separator", ",")),
            quote="" if quote == "-1" else quote,
            header="false" if str(format_options.get("writeHeader", "true")).lower() == "false" else "true",
        )
        if format_options.get("escaper"):
            options["escape"] = str(format_options["escaper"])
    elif fmt in ("parquet", "glueparquet"):
        _check_options(call, "format_options", format_options, PARQUET_OPTIONS, FORMATS_PAGE)
        compression = format_options.get("compression", compression or "snappy")
        if compression in ("none", "uncompressed"):
            compression = "none"
        for name, conf in (("blockSize", "parquet.block.size"), ("pageSize", "parquet.page.size")):
            if name in format_options:
                options[conf] = str(format_options[name])
    else:
        _check_options(call, "format_options", format_options, set(), FORMATS_PAGE)
    if compression:
        options["compression"] = str(compression)
    return options


def _partition_value(value: Any) -> str:
    return HIVE_DEFAULT_PARTITION if value is None or value == "" else str(value)


def _escape(value: str) -> str:
    """A partition value as Spark names its folder (``%XX`` for path-unsafe characters)."""
    return "".join(f"%{ord(c):02X}" if c in _ESCAPED or ord(c) < 32 else c for c in value)


def _names_types(columns) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in columns or []]
