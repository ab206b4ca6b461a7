"""What the checks job is asked to read: a dataset's data files, measured without reading its rows.

A dataset's locations (a generation, or what the catalog publishes) become a *data* entry of the
checks job's request: every data file with its partition values and their types, as the
in-process reader (:func:`glue_cicd.quality.read_locations`) sees them, plus the dataset's size
(bytes from the listing; rows from the Parquet footers, two ranged reads per file). The size
decides the path (:meth:`glue_cicd.spec.DistributedChecks.distributed`).
"""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from glue_cicd.quality import MAX_DOWNLOADS, DatasetUnavailableError, list_locations

if TYPE_CHECKING:
    from glue_cicd.spec import DistributedChecks

# Arrow partition types (quality._partition_types) as the checks job's Spark types.
SPARK_PARTITION_TYPES = {"date32[day]": "date", "int64": "bigint", "string": "string"}
_FOOTER = 8  # a Parquet file ends with a 4-byte little-endian metadata length and b"PAR1"


def data_entry(
    s3, locations: list[tuple[str, dict[str, str]]], fmt: str, settings: DistributedChecks
) -> dict[str, Any]:
    """The data files of ``locations`` as a request's data entry: ``format``, ``files`` (``uri``,
    ``values``), ``partition_types``, ``bytes``, ``rows`` (counted only where it decides) and
    ``distributed``: whether the checks job checks it (a Parquet dataset over a threshold)."""
    listing = list_locations(s3, locations)
    files = sorted(listing.values)
    size = sum(listing.sizes.values())
    rows = None
    if fmt == "parquet" and settings.min_rows is not None and not settings.distributed(None, size):
        rows = parquet_rows(s3, files, listing.sizes)
    return {
        "format": fmt,
        "files": [{"uri": f"s3://{bucket}/{key}", "values": listing.values[(bucket, key)]} for bucket, key in files],
        "partition_types": {name: SPARK_PARTITION_TYPES[str(t)] for name, t in listing.types().items()},
        "bytes": size,
        "rows": rows,
        "distributed": fmt == "parquet" and settings.distributed(rows, size),
    }


def parquet_rows(s3, files: list[tuple[str, str]], sizes: dict[tuple[str, str], int]) -> int:
    """The rows of Parquet ``files`` (``(bucket, key)``), from their footers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def rows(item: tuple[str, str]) -> int:
        bucket, key = item
        size = sizes[item]
        tail = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={size - _FOOTER}-{size - 1}")["Body"].read()
        length = struct.unpack("<I", tail[:4])[0]
        start = size - _FOOTER - length
        try:
            if tail[4:] != b"PAR1" or start < 4:
                raise pa.ArrowInvalid("no Parquet footer")
            footer = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{size - 1}")["Body"].read()
            return pq.read_metadata(pa.BufferReader(b"PAR1" + footer)).num_rows
        except pa.ArrowException as exc:
            raise DatasetUnavailableError(f"cannot read s3://{bucket}/{key} as parquet: {exc}") from exc

    with ThreadPoolExecutor(max_workers=max(1, min(MAX_DOWNLOADS, len(files)))) as pool:
        return sum(pool.map(rows, files))
