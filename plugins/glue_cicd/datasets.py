"""Reading a job's output datasets where they are: a generation in S3, or what the catalog
publishes (what consumers read). Takes boto3-style clients and the catalog hook; no Airflow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glue_cicd.generations import generation_of, generation_uri
from glue_cicd.publish import published_locations
from glue_cicd.quality import (
    DatasetUnavailableError,
    _data_keys,
    _parse,
    _parse_uri,
    _partition_types,
    _partition_values,
    read_locations,
)

if TYPE_CHECKING:
    from glue_cicd.hooks.catalog import CatalogHook
    from glue_cicd.spec import Environment, OutputDataset


def generation_location(output: OutputDataset, env: Environment, generation: str) -> str:
    return generation_uri(output.path_in(env), generation)


def written_partitions(s3, uri: str, partition_by: list[str]) -> list[list[str]]:
    """The partition values (in ``partition_by`` order) a generation holds, from its Hive folders
    (none for an unpartitioned dataset)."""
    if not partition_by:
        return []
    bucket, prefix = _parse_uri(uri)
    found = set()
    for key in _data_keys(s3, bucket, prefix, uri):
        values = _partition_values(key[len(prefix) :])
        if all(name in values for name in partition_by):
            found.add(tuple(values[name] for name in partition_by))
    return [list(v) for v in sorted(found)]


def generation_schema(s3, uri: str, fmt: str, partition_by: list[str]):
    """The Arrow schema of a generation: its first data file's columns plus the partition columns."""
    import pyarrow as pa

    bucket, prefix = _parse_uri(uri)
    keys = _data_keys(s3, bucket, prefix, uri)
    if not keys:
        raise DatasetUnavailableError(f"no data files under {uri}: the run wrote nothing")
    schema = _parse(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read(), fmt).schema
    types = _partition_types(_partition_values(k[len(prefix) :]) for k in keys)
    for name in partition_by:
        if name not in schema.names:
            schema = schema.append(pa.field(name, types.get(name, pa.string())))
    return schema


def read_generation(s3, output: OutputDataset, env: Environment, generation: str):
    """A generation's data as one Arrow table."""
    return read_locations(s3, [(generation_location(output, env, generation), {})], output.format)


def read_published(
    s3, catalog: CatalogHook, env: Environment, output: OutputDataset, *, partitions: list[list[str]] | None = None
) -> tuple[dict[str, Any] | None, dict[str, str], Any]:
    """What consumers of ``output`` read in ``env`` (all of it, or only ``partitions``).

    :return: the catalog table (None: never published), the partitions' locations, and the data
        (None when nothing is published there: no table, or none of ``partitions``).
    """
    table, locations, where = published(catalog, env, output, partitions=partitions)
    return table, locations, None if where is None else read_locations(s3, where, output.format)


def published(
    catalog: CatalogHook, env: Environment, output: OutputDataset, *, partitions: list[list[str]] | None = None
) -> tuple[dict[str, Any] | None, dict[str, str], list[tuple[str, dict[str, str]]] | None]:
    """Where consumers of ``output`` read in ``env``, as :func:`read_published` without the data:
    the table, the partitions' locations, and the ``(uri, partition values)`` locations to read."""
    table = catalog.table(env.catalog_database, output.name)
    if table is None:
        return None, {}, None
    locations: dict[str, str] = {}
    if table.get("PartitionKeys"):
        keys = None if partitions is None else ["/".join(v) for v in partitions]
        locations = catalog.partition_locations(env.catalog_database, output.name, keys)
        if not locations:
            return table, {}, None
    return table, locations, published_locations(table, locations)


def read_published_generation(s3, catalog: CatalogHook, env: Environment, output: OutputDataset, generation: str):
    """What consumers of ``output`` read of ``generation``: the partitions it wrote that the catalog
    points at it (the whole table, unpartitioned). Costs what the generation holds, whatever the
    table's history: its own S3 listing and one catalog lookup per partition it wrote.

    :raises DatasetUnavailableError: the catalog does not point consumers at the generation.
    """
    return read_locations(s3, published_generation(s3, catalog, env, output, generation), output.format)


def published_generation(
    s3, catalog: CatalogHook, env: Environment, output: OutputDataset, generation: str
) -> list[tuple[str, dict[str, str]]]:
    """The locations :func:`read_published_generation` reads."""
    name = f"{env.catalog_database}.{output.name}"
    table = catalog.table(env.catalog_database, output.name)
    if table is None:
        raise DatasetUnavailableError(f"catalog table {name} does not exist")
    if not output.partition_by:
        location = table["StorageDescriptor"]["Location"]
        if generation_of(location) != generation:
            raise DatasetUnavailableError(f"{name} points at {location}, not generation {generation}")
        return published(catalog, env, output)[2]
    written = [
        "/".join(v) for v in written_partitions(s3, generation_location(output, env, generation), output.partition_by)
    ]
    locations = catalog.partition_locations(env.catalog_database, output.name, written) if written else {}
    mine = [joined.split("/") for joined, loc in sorted(locations.items()) if generation_of(loc) == generation]
    if not mine:
        raise DatasetUnavailableError(f"no partition of {name} points at generation {generation}")
    return published(catalog, env, output, partitions=mine)[2]
