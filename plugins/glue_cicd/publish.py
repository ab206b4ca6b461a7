"""Publishing a generation through the Glue Data Catalog, and undoing it (pure logic; the calls
are made by :class:`glue_cicd.hooks.catalog.CatalogHook`).

A :class:`PublishPlan` holds the before-image and the after-image of everything a publish
touches: the table (``TableInput``) and, for a partitioned table, the location of every
partition the generation wrote. It is stored as a manifest before the first catalog call, so a
publish that fails midway, a failed post-publish check and a later rollback can all re-apply the
before-image. Catalog table versions do not record partition locations; the manifests do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glue_cicd.errors import Refusal
from glue_cicd.generations import generation_uri

# Members of a GetTable / GetPartitions result that TableInput / PartitionInput accept.
TABLE_INPUT_KEYS = (
    "Name",
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "TableType",
    "Parameters",
)
PARTITION_INPUT_KEYS = ("Values", "StorageDescriptor", "Parameters")
# Glue's batch limits.
BATCH_CREATE, BATCH_UPDATE, BATCH_DELETE = 100, 100, 25

_FORMATS = {
    "parquet": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    },
    "csv": {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            "Parameters": {"field.delim": ",", "skip.header.line.count": "1"},
        },
    },
    "json": {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
    },
}


class PublishError(Refusal):
    """The catalog was not changed (or was restored to its before-image)."""


class ConcurrentChangeError(PublishError):
    """Someone changed the table or its partitions after the release looked at them."""


def glue_type(arrow_type) -> str:
    """The Glue (Hive) type name of an Arrow type."""
    import pyarrow as pa
    import pyarrow.types as t

    simple = [
        (t.is_boolean, "boolean"),
        (t.is_int8, "tinyint"),
        (t.is_int16, "smallint"),
        (t.is_int32, "int"),
        (t.is_int64, "bigint"),
        (t.is_float32, "float"),
        (t.is_float64, "double"),
        (t.is_date, "date"),
        (t.is_timestamp, "timestamp"),
        (t.is_binary, "binary"),
        (t.is_large_binary, "binary"),
    ]
    for check, name in simple:
        if check(arrow_type):
            return name
    if t.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    if t.is_list(arrow_type) or t.is_large_list(arrow_type):
        return f"array<{glue_type(arrow_type.value_type)}>"
    if t.is_struct(arrow_type):
        fields = ",".join(f"{f.name}:{glue_type(f.type)}" for f in arrow_type)
        return f"struct<{fields}>"
    if t.is_map(arrow_type):
        return f"map<{glue_type(arrow_type.key_type)},{glue_type(arrow_type.item_type)}>"
    if t.is_dictionary(arrow_type):
        return glue_type(arrow_type.value_type)
    if arrow_type in (pa.string(), pa.large_string()):
        return "string"
    return "string"


def columns_of(schema, partition_by: list[str]) -> tuple[list[dict], list[dict]]:
    """The table's data columns and partition keys (``{"Name", "Type"}``) from an Arrow schema."""
    data = [{"Name": f.name, "Type": glue_type(f.type)} for f in schema if f.name not in partition_by]
    keys = [{"Name": name, "Type": glue_type(schema.field(name).type)} for name in partition_by]
    return data, keys


def storage_descriptor(columns: list[dict], location: str, fmt: str) -> dict[str, Any]:
    return {"Columns": columns, "Location": location, **_FORMATS[fmt]}


def table_input(
    name: str,
    *,
    columns: list[dict],
    partition_keys: list[dict],
    location: str,
    fmt: str,
    generation: str,
    version: str,
) -> dict[str, Any]:
    """The ``TableInput`` of a published dataset."""
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": partition_keys,
        "StorageDescriptor": storage_descriptor(columns, location, fmt),
        "Parameters": {
            "classification": fmt,
            "EXTERNAL": "TRUE",
            "glue_cicd.generation": generation,
            "glue_cicd.version": version,
        },
    }


def as_table_input(table: dict[str, Any] | None) -> dict[str, Any] | None:
    """A ``GetTable`` result as the ``TableInput`` that recreates it."""
    if table is None:
        return None
    return {k: table[k] for k in TABLE_INPUT_KEYS if k in table}


def partition_input(values: list[str], table: dict[str, Any], location: str) -> dict[str, Any]:
    """A partition of ``table`` (a ``TableInput``) at ``location``."""
    descriptor = dict(table["StorageDescriptor"], Location=location)
    return {"Values": list(values), "StorageDescriptor": descriptor}


@dataclass
class PublishPlan:
    """What a publish (or its undo) changes in one table.

    ``partitions`` maps each touched partition's values (joined by ``/``) to ``[before, after]``
    locations; None means the partition does not exist (before) or is dropped (after).
    ``table_after`` None drops the table. ``version_id`` guards the table update.
    """

    database: str
    table: str
    generation: str
    table_before: dict[str, Any] | None
    table_after: dict[str, Any] | None
    version_id: str | None = None
    partitions: dict[str, list[str | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "table": self.table,
            "generation": self.generation,
            "table_before": self.table_before,
            "table_after": self.table_after,
            "version_id": self.version_id,
            "partitions": self.partitions,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PublishPlan:
        return cls(**data)

    @property
    def partitioned(self) -> bool:
        image = self.table_after or self.table_before or {}
        return bool(image.get("PartitionKeys"))

    def changes_table(self, current: dict[str, Any] | None) -> bool:
        return _comparable(as_table_input(current)) != _comparable(self.table_after)

    def resume(self, current: dict[str, Any] | None) -> PublishPlan:
        """This plan, stored before a publish that was interrupted, guarded by the table's version now.

        The table must be as the plan left it: at its before- or its after-image (a failed
        attempt restores the before-image, which bumps the version)."""
        now = _comparable(as_table_input(current))
        if now not in (_comparable(self.table_before), _comparable(self.table_after)):
            raise ConcurrentChangeError(
                f"table {self.database}.{self.table} changed since this publish began: nothing published; "
                "re-run the release"
            )
        self.version_id = current.get("VersionId") if current else None
        return self

    def pending(self, current_partitions: dict[str, str]) -> dict[str, list[str | None]]:
        """The partitions whose location is not yet the after-image."""
        return {k: v for k, v in self.partitions.items() if current_partitions.get(k) != v[1]}


def plan_publish(
    *,
    database: str,
    table: str,
    generation: str,
    current: dict[str, Any] | None,
    desired: dict[str, Any],
    written: list[list[str]],
    current_partitions: dict[str, str],
    expected_version: str | None = None,
) -> PublishPlan:
    """Point ``table`` at ``generation``.

    :param current: the table as ``GetTable`` returns it (None: not created yet).
    :param desired: its ``TableInput`` after the publish (location: the generation, or the
        dataset's path when partitioned).
    :param written: the partition values the generation holds (empty when unpartitioned).
    :param current_partitions: the current location of those partitions, by joined values.
    :param expected_version: the ``VersionId`` the release compared against (the data diff);
        None to guard with the current one.
    """
    stale = current is not None and expected_version is not None and current.get("VersionId") != expected_version
    if stale and _comparable(as_table_input(current)) != _comparable(desired):  # equal: already published
        raise ConcurrentChangeError(
            f"table {database}.{table} changed since the release compared against it (version "
            f"{expected_version}, now {current.get('VersionId')}): nothing published; re-run the release"
        )
    base = desired["StorageDescriptor"]["Location"]
    partitions = {}
    keys = [k["Name"] for k in desired.get("PartitionKeys", [])]
    for values in written:
        joined = "/".join(values)
        relative = "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
        partitions[joined] = [current_partitions.get(joined), generation_uri(base, generation) + relative + "/"]
    return PublishPlan(
        database=database,
        table=table,
        generation=generation,
        table_before=as_table_input(current),
        table_after=desired,
        version_id=current.get("VersionId") if current else None,
        partitions=partitions,
    )


def plan_restore(
    later: list[dict[str, Any]],
    *,
    target: dict[str, Any] | None = None,
    then: list[dict[str, Any]] = (),
    current: dict[str, Any] | None,
    current_partitions: dict[str, str],
) -> PublishPlan:
    """Bring one table back to a release's data.

    :param later: manifests of the publishes to undo, newest first: every partition they touched
        returns to the before-image of the oldest of them (the table too, unless ``target``).
    :param target: the manifest of the release to restore: its after-image is re-applied.
    :param then: manifests re-applied after ``target``, oldest first (the runs of that release).
    :param current: the table now (``GetTable``); ``current_partitions``: locations now.
    """
    if not later and target is None:
        raise PublishError("nothing to restore: no publish manifests given")
    plans = [PublishPlan.from_dict(m) for m in later]
    wanted: dict[str, str | None] = {}
    for plan in plans:  # newest first: the oldest publish's before-image wins
        for key, (before, _) in plan.partitions.items():
            wanted[key] = before
    if target is not None:
        chosen = PublishPlan.from_dict(target)
        wanted.update({key: after for key, (_, after) in chosen.partitions.items()})
        table_after, origin = chosen.table_after, chosen
    else:
        table_after, origin = plans[-1].table_before, plans[-1]
    for kept in (PublishPlan.from_dict(m) for m in then):
        wanted.update({key: after for key, (_, after) in kept.partitions.items()})
        table_after = kept.table_after
    return PublishPlan(
        database=origin.database,
        table=origin.table,
        generation=origin.generation,
        table_before=as_table_input(current),
        table_after=table_after,
        version_id=current.get("VersionId") if current else None,
        partitions={key: [current_partitions.get(key), location] for key, location in wanted.items()},
    )


def published_locations(table: dict[str, Any], partitions: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """What consumers read: ``(location, partition values)`` of the table or of each partition."""
    keys = [k["Name"] for k in table.get("PartitionKeys") or []]
    if not keys:
        return [(table["StorageDescriptor"]["Location"], {})]
    return [(loc, dict(zip(keys, split_values(joined), strict=True))) for joined, loc in sorted(partitions.items())]


def split_values(joined: str) -> list[str]:
    return joined.split("/")


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _comparable(table: dict[str, Any] | None) -> Any:
    if table is None:
        return None
    return {k: v for k, v in table.items() if k in TABLE_INPUT_KEYS}
