"""The Glue Data Catalog as consumers see it: tables, partitions, and publishing a plan."""

from __future__ import annotations

import logging
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from glue_cicd.publish import (
    BATCH_CREATE,
    BATCH_DELETE,
    BATCH_UPDATE,
    ConcurrentChangeError,
    PublishError,
    PublishPlan,
    chunks,
    partition_input,
    split_values,
)

log = logging.getLogger(__name__)


class CatalogHook(AwsBaseHook):
    """Catalog reads, and :meth:`apply` of a :class:`~glue_cicd.publish.PublishPlan`.

    Takes the :class:`AwsBaseHook` arguments (``aws_conn_id``, ``region_name``).
    """

    def __init__(self, *args, **kwargs):
        kwargs["client_type"] = "glue"
        super().__init__(*args, **kwargs)

    def table(self, database: str, name: str) -> dict[str, Any] | None:
        """``GetTable``'s table (with ``VersionId``); None if it does not exist."""
        try:
            return self.conn.get_table(DatabaseName=database, Name=name)["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "EntityNotFoundException":
                raise
        try:
            self.conn.get_database(Name=database)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "EntityNotFoundException":
                raise PublishError(
                    f"Glue database {database!r} does not exist: create it (infrastructure/cloudformation.yaml "
                    "creates one per environment) or fix catalog_database in the environments config"
                ) from exc
            raise
        return None

    def partition_locations(self, database: str, name: str, keys: list[str] | None = None) -> dict[str, str]:
        """Location of each partition (by values joined with ``/``): all of them, or those of ``keys``."""
        found: dict[str, str] = {}
        if keys is None:
            for page in self.conn.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=name):
                for partition in page["Partitions"]:
                    found["/".join(partition["Values"])] = partition["StorageDescriptor"]["Location"]
            return found
        for chunk in chunks(sorted(set(keys)), 1000):
            response = self.conn.batch_get_partition(
                DatabaseName=database,
                TableName=name,
                PartitionsToGet=[{"Values": split_values(k)} for k in chunk],
            )
            for partition in response.get("Partitions", []):
                found["/".join(partition["Values"])] = partition["StorageDescriptor"]["Location"]
        return found

    def apply(self, plan: PublishPlan, *, expect_before: bool = True) -> str:
        """Make the catalog match the plan's after-image.

        The table first (``CreateTable``, or ``UpdateTable`` guarded by the plan's ``VersionId``),
        then the partitions in Glue's batch sizes. Any error re-applies what the catalog held
        before this call, then raises :class:`PublishError`. With ``expect_before``, a partition
        that is neither at its before- nor its after-image means someone else changed it: refused.

        :return: ``published`` or ``unchanged`` (a repeated publish).
        """
        table = self.table(plan.database, plan.table)
        current = self.partition_locations(plan.database, plan.table, list(plan.partitions)) if table else {}
        if expect_before:
            moved = [k for k, (before, after) in plan.partitions.items() if current.get(k) not in (before, after)]
            if moved:
                raise ConcurrentChangeError(
                    f"{plan.database}.{plan.table}: partitions {', '.join(moved[:5])} changed since the release "
                    "looked at them: nothing published; re-run the release"
                )
        pending = plan.pending(current)
        if not pending and not plan.changes_table(table):
            return "unchanged"
        try:
            self._apply(plan, table, pending, current)
        except Exception as exc:
            self._restore(plan, table, current)
            if isinstance(exc, PublishError):
                raise
            code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
            raise PublishError(
                f"publishing {plan.database}.{plan.table} failed ({code}: {exc}); the catalog was restored "
                "to its state before the publish"
            ) from exc
        return "published"

    # -- internals -----------------------------------------------------------------------------

    def _apply(self, plan: PublishPlan, table: dict | None, pending: dict, current: dict[str, str]) -> None:
        db, name = plan.database, plan.table
        if plan.table_after is None:
            self._partitions(plan.table_before or {}, db, name, pending, current)
            if table is not None:
                self.conn.delete_table(DatabaseName=db, Name=name)
            return
        if table is None:
            try:
                self.conn.create_table(DatabaseName=db, TableInput=plan.table_after)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "AlreadyExistsException":
                    raise ConcurrentChangeError(f"{db}.{name} was created by someone else meanwhile") from exc
                raise
        elif plan.changes_table(table):
            kwargs = {"VersionId": plan.version_id} if plan.version_id else {}
            try:
                self.conn.update_table(DatabaseName=db, TableInput=plan.table_after, **kwargs)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ConcurrentModificationException":
                    raise ConcurrentChangeError(
                        f"{db}.{name} changed since the release read it (VersionId {plan.version_id}): "
                        "nothing published; re-run the release"
                    ) from exc
                raise
        self._partitions(plan.table_after, db, name, pending, current)

    def _partitions(self, image: dict, db: str, name: str, pending: dict, current: dict[str, str]) -> None:
        creates = [k for k, (_, after) in pending.items() if after is not None and k not in current]
        updates = [k for k, (_, after) in pending.items() if after is not None and k in current]
        deletes = [k for k, (_, after) in pending.items() if after is None and k in current]
        for chunk in chunks(creates, BATCH_CREATE):
            inputs = [partition_input(split_values(k), image, pending[k][1]) for k in chunk]
            response = self.conn.batch_create_partition(DatabaseName=db, TableName=name, PartitionInputList=inputs)
            self._check(response.get("Errors"), db, name, "BatchCreatePartition")
        for chunk in chunks(updates, BATCH_UPDATE):
            entries = [
                {
                    "PartitionValueList": split_values(k),
                    "PartitionInput": partition_input(split_values(k), image, pending[k][1]),
                }
                for k in chunk
            ]
            response = self.conn.batch_update_partition(DatabaseName=db, TableName=name, Entries=entries)
            self._check(response.get("Errors"), db, name, "BatchUpdatePartition")
        for chunk in chunks(deletes, BATCH_DELETE):
            response = self.conn.batch_delete_partition(
                DatabaseName=db, TableName=name, PartitionsToDelete=[{"Values": split_values(k)} for k in chunk]
            )
            self._check(response.get("Errors"), db, name, "BatchDeletePartition")

    @staticmethod
    def _check(errors: list | None, db: str, name: str, call: str) -> None:
        if errors:
            first = errors[0]
            detail = first.get("ErrorDetail", {})
            values = first.get("PartitionValues") or first.get("PartitionValueList")
            raise PublishError(
                f"{call} on {db}.{name} refused {len(errors)} partitions, e.g. {values}: "
                f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"
            )

    def _restore(self, plan: PublishPlan, table_before: dict | None, locations_before: dict[str, str]) -> None:
        """Put back the table and the touched partitions as they were when :meth:`apply` began."""
        from glue_cicd.publish import as_table_input

        db, name = plan.database, plan.table
        try:
            now_table = self.table(db, name)
            now = self.partition_locations(db, name, list(plan.partitions)) if now_table else {}
            back = {
                k: [now.get(k), locations_before.get(k)]
                for k in plan.partitions
                if now.get(k) != locations_before.get(k)
            }
            image = as_table_input(table_before) or plan.table_after or {}
            if now_table is not None:
                self._partitions(image, db, name, back, now)
            if table_before is None and now_table is not None:
                self.conn.delete_table(DatabaseName=db, Name=name)
            elif table_before is not None and now_table is None:
                self.conn.create_table(DatabaseName=db, TableInput=as_table_input(table_before))
                self._partitions(image, db, name, {k: [None, v] for k, v in locations_before.items()}, {})
            elif table_before is not None and as_table_input(now_table) != as_table_input(table_before):
                self.conn.update_table(DatabaseName=db, TableInput=as_table_input(table_before))
            log.warning("%s.%s restored to its state before the failed publish", db, name)
        except Exception:
            log.exception("%s.%s could NOT be restored: re-apply the manifest's before-image", db, name)
            raise
