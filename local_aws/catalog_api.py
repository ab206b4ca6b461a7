"""Glue Data Catalog calls answered as AWS answers them, where moto 5.2.5 does not.

What moto lacks and what we add:

- ``UpdateTable`` ignores ``VersionId``: here a ``VersionId`` other than the table's current one
  is refused with ``ConcurrentModificationException`` ("Update table failed due to concurrent
  modifications.") and the table is left unchanged. The check and the update are one atomic step
  (the server is threaded).
- ``UpdateTable`` ignores ``SkipArchive``: with it the version still advances, but the version it
  replaces is not kept for ``GetTableVersions``.
- A table's first ``VersionId`` is ``"1"``; on AWS it is ``"0"``.
- ``GetTableVersions`` lists versions oldest first, all at once; AWS lists the newest first, in
  pages (``MaxResults`` up to 100, ``NextToken``).
- ``GetPartitions`` ignores ``MaxResults`` and never returns a ``NextToken``: here it pages
  (``MaxResults`` up to 1000, the default). moto's ``Expression`` filter is kept.
- Batch sizes are not checked: more than 100 ``BatchCreatePartition`` inputs or
  ``BatchUpdatePartition`` entries, 25 ``BatchDeletePartition`` values or 1000
  ``BatchGetPartition`` values are refused with AWS's ``ValidationException``.
- Partition values are not checked against the table's partition keys: Create/Update(Batch)
  Partition with a different number of values is refused (``InvalidInputException``) as AWS does,
  for the whole call.
- ``UpdatePartition``/``BatchUpdatePartition`` moving a partition onto values that already exist
  drop the source partition, then fail the whole call; here that update fails alone
  (``AlreadyExistsException``, an ``Errors`` entry in a batch) and changes nothing. An updated
  partition keeps its ``CreationTime``.
- moto's CloudFormation skips ``AWS::Glue::Database`` (with a warning) and creates nothing:
  :class:`GlueDatabase` creates the database (``Ref`` is its name) and deleting the stack deletes
  it; stack updates leave it as is.

What moto already does right and is used as is: Create/Get/Update/DeleteDatabase, GetTable (with
``VersionId``), DeleteTable, GetTableVersion, CreatePartition refusing a duplicate, GetPartition,
DeletePartition, ``BatchUpdatePartition``'s ``Errors`` entry for a missing partition,
``BatchCreatePartition``/``BatchDeletePartition``'s ``Errors`` entries, ``BatchGetPartition``
leaving absent partitions out.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult, EmptyResult
from moto.glue.exceptions import (
    EntityNotFoundException,
    GlueClientError,
    InvalidInputException,
    PartitionAlreadyExistsException,
)
from moto.glue.models import FakeTable, glue_backends
from moto.glue.responses import GlueResponse

# (request member, its name in AWS's validation message, most items per call)
_BATCH_LIMITS = {
    "batch_create_partition": ("PartitionInputList", "partitionInputList", 100),
    "batch_update_partition": ("Entries", "entries", 100),
    "batch_delete_partition": ("PartitionsToDelete", "partitionsToDelete", 25),
    "batch_get_partition": ("PartitionsToGet", "partitionsToGet", 1000),
}

# Catalog changes and the reads that iterate over them, one at a time.
_lock = threading.RLock()

_moto = {
    name: getattr(GlueResponse, name)
    for name in (
        "create_table",
        "create_partition",
        "batch_create_partition",
        "batch_delete_partition",
        "batch_get_partition",
    )
}


class ConcurrentModificationException(GlueClientError):
    def __init__(self, message: str):
        super().__init__("ConcurrentModificationException", message)


class ValidationException(GlueClientError):
    def __init__(self, message: str):
        super().__init__("ValidationException", message)


def install() -> None:
    """Answer this process's Glue catalog calls and ``AWS::Glue::Database`` as described above."""
    GlueResponse.create_table = create_table
    GlueResponse.update_table = update_table
    GlueResponse.get_table_versions = get_table_versions
    GlueResponse.get_partitions = get_partitions
    GlueResponse.create_partition = create_partition
    GlueResponse.update_partition = update_partition
    GlueResponse.batch_create_partition = batch_create_partition
    GlueResponse.batch_update_partition = batch_update_partition
    GlueResponse.batch_delete_partition = batch_delete_partition
    GlueResponse.batch_get_partition = batch_get_partition
    # moto lists its CloudFormation models once, from CloudFormationModel's subclasses.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


# -- tables ------------------------------------------------------------------------------------


def create_table(self: GlueResponse) -> ActionResult:
    result = _moto["create_table"](self)
    table = self.glue_backend.get_table(self._get_param("DatabaseName"), self._get_param("TableInput")["Name"])
    table.versions = {"0": table.versions.pop("1")}
    table._current_version = 0
    return result


def update_table(self: GlueResponse) -> ActionResult:
    table_input = self._get_param("TableInput")
    name = self._get_param("Name") or table_input.get("Name")
    expected = self._get_param("VersionId")
    with _lock:
        table = self.glue_backend.get_table(self._get_param("DatabaseName"), name)
        replaced = str(table._current_version)
        if expected is not None and expected != replaced:
            raise ConcurrentModificationException("Update table failed due to concurrent modifications.")
        table.update(table_input)
        if self._get_param("SkipArchive"):
            del table.versions[replaced]
    return EmptyResult()


def get_table_versions(self: GlueResponse) -> ActionResult:
    with _lock:
        table = self.glue_backend.get_table(self._get_param("DatabaseName"), self._get_param("TableName"))
        page, token = _page(self, sorted(table.versions, key=int, reverse=True), limit=100)
        result: dict[str, Any] = {"TableVersions": [{"Table": table.as_dict(v), "VersionId": v} for v in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


# -- partitions --------------------------------------------------------------------------------


def get_partitions(self: GlueResponse) -> ActionResult:
    with _lock:
        partitions = self.glue_backend.get_partitions(
            self._get_param("DatabaseName"), self._get_param("TableName"), self._get_param("Expression")
        )
    page, token = _page(self, partitions, limit=1000)
    result: dict[str, Any] = {"Partitions": [p.as_dict() for p in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def create_partition(self: GlueResponse) -> ActionResult:
    with _lock:
        _check_values(_table(self), (self._get_param("PartitionInput") or {}).get("Values"))
        return _moto["create_partition"](self)


def update_partition(self: GlueResponse) -> ActionResult:
    with _lock:
        _update(_table(self), self._get_param("PartitionValueList"), self._get_param("PartitionInput"))
    return EmptyResult()


def batch_update_partition(self: GlueResponse) -> ActionResult:
    entries = _batch(self, "batch_update_partition")
    errors = []
    with _lock:
        table = _table(self)
        for entry in entries:
            _check_values(table, entry["PartitionInput"].get("Values"))
        for entry in entries:
            try:
                _update(table, entry["PartitionValueList"], entry["PartitionInput"])
            except (EntityNotFoundException, PartitionAlreadyExistsException) as exc:
                detail = {"ErrorCode": exc.error_type, "ErrorMessage": exc.message}
                errors.append({"PartitionValueList": entry["PartitionValueList"], "ErrorDetail": detail})
    return ActionResult({"Errors": errors} if errors else {})


def batch_create_partition(self: GlueResponse) -> ActionResult:
    inputs = _batch(self, "batch_create_partition")
    with _lock:
        table = _table(self)
        for partition_input in inputs:
            _check_values(table, partition_input.get("Values"))
        return _moto["batch_create_partition"](self)


def batch_delete_partition(self: GlueResponse) -> ActionResult:
    _batch(self, "batch_delete_partition")
    with _lock:
        return _moto["batch_delete_partition"](self)


def batch_get_partition(self: GlueResponse) -> ActionResult:
    _batch(self, "batch_get_partition")
    with _lock:
        return _moto["batch_get_partition"](self)


def _table(self: GlueResponse) -> FakeTable:
    return self.glue_backend.get_table(self._get_param("DatabaseName"), self._get_param("TableName"))


def _update(table: FakeTable, values: list[str], partition_input: dict[str, Any]) -> None:
    """Update one partition; nothing changes when it is missing or its new values are taken."""
    _check_values(table, partition_input.get("Values"))
    before = table.get_partition(values)
    if partition_input["Values"] != values and str(partition_input["Values"]) in table.partitions:
        raise PartitionAlreadyExistsException()
    table.update_partition(values, partition_input)
    table.get_partition(partition_input["Values"]).creation_time = before.creation_time


def _check_values(table: FakeTable, values: list[str] | None) -> None:
    if len(values or []) != len(table.as_dict().get("PartitionKeys") or []):
        raise InvalidInputException(
            "Partition", "The number of partition keys do not match the number of partition values."
        )


def _batch(self: GlueResponse, name: str) -> list[Any]:
    member, field, limit = _BATCH_LIMITS[name]
    items = self._get_param(member) or []
    if len(items) > limit:
        raise ValidationException(
            f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )
    return items


def _page(self: GlueResponse, items: list[Any], *, limit: int) -> tuple[list[Any], str | None]:
    """One page of ``items`` for ``MaxResults`` (1 to ``limit``, default ``limit``) and ``NextToken``
    (the offset where the next page starts)."""
    size = self._get_param("MaxResults") or limit
    if size > limit:
        raise ValidationException(
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {limit}"
        )
    token = self._get_param("NextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise InvalidInputException("Page", f"Invalid NextToken: {token!r}") from None
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


# -- CloudFormation ----------------------------------------------------------------------------


class GlueDatabase(CloudFormationModel):
    """``AWS::Glue::Database``: the catalog database ``DatabaseInput.Name`` (or ``DatabaseName``)."""

    def __init__(self, name: str):
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Glue::Database"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> GlueDatabase:
        properties = cloudformation_json["Properties"]
        database_input = dict(properties.get("DatabaseInput") or {})
        name = database_input.get("Name") or properties.get("DatabaseName") or resource_name.lower()
        database_input["Name"] = name
        glue_backends[account_id][region_name].create_database(name, database_input)
        return cls(name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        glue_backends[account_id][region_name].delete_database(resource_name)

    def is_created(self) -> bool:
        return True
