"""The release ledger (DynamoDB): release history, live versions and per-environment locks.

Items, all under ``pk = JOB#<job>``:

- ``sk = EVENT#<time>#<id>``: every build, test, deployment, approval, promotion, quality
  result, verification and rollback (who, when, DAG run, version, details).
- ``sk = DEPLOY#<env>#<time>#<id>``: each deployment's full job definition and artifact, so a
  rollback restores both; ``outcome`` is ``deployed``, then ``verified`` or ``failed``.
- ``sk = LOCK#<env>``: the environment lock (owner = DAG run, expiry), taken by conditional write.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

LOCK_TTL_SECONDS = 6 * 3600


class LedgerError(RuntimeError):
    """The ledger refuses an operation (lock held, unknown version, ...)."""


class LockHeldError(LedgerError):
    """Another run holds the job's environment lock."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Deployment:
    """One deployment of a job to an environment, as recorded."""

    job: str
    environment: str
    version: str
    artifact_sha256: str
    script_location: str
    definition: dict[str, Any]
    outcome: str
    at: str
    run_id: str
    sk: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Deployment:
        return cls(
            job=item["job"],
            environment=item["environment"],
            version=item["version"],
            artifact_sha256=item["artifact_sha256"],
            script_location=item["script_location"],
            definition=json.loads(item["definition"]),
            outcome=item["outcome"],
            at=item["at"],
            run_id=item.get("run_id", ""),
            sk=item["sk"],
        )


class Ledger:
    """Release history and locks in one DynamoDB table (``pk``/``sk`` string keys).

    :param dynamodb: a boto3 DynamoDB client (from an Airflow AWS connection or the emulator).
    :param table: the table name (``ledger_table`` in the environments config).
    """

    def __init__(self, dynamodb, table: str):
        self.db = dynamodb
        self.table = table

    # -- events -------------------------------------------------------------------------------

    def record(self, job: str, event: str, *, run_id: str = "", who: str = "", **details: Any) -> dict[str, Any]:
        """Append an event (``build``, ``deployment``, ``approval``, ...) to the job's history."""
        at = _now()
        item = {
            "pk": f"JOB#{job}",
            "sk": f"EVENT#{at}#{uuid.uuid4().hex[:8]}",
            "job": job,
            "event": event,
            "at": at,
            "run_id": run_id,
            "who": who,
            "details": json.dumps(details, sort_keys=True, default=str),
        }
        self.db.put_item(TableName=self.table, Item=_marshal(item))
        return item

    def events(self, job: str, event: str | None = None) -> list[dict[str, Any]]:
        """The job's events, oldest first (optionally one kind only); ``details`` decoded."""
        items = self._query(job, "EVENT#")
        result = []
        for item in items:
            if event is None or item["event"] == event:
                item["details"] = json.loads(item.get("details") or "{}")
                result.append(item)
        return result

    def passed_tests(self, job: str, key: str) -> dict[str, Any] | None:
        """The report of the latest run of the job's tests under ``key`` that passed, with ``tested_in``
        (that run), or None."""
        for event in reversed(self.events(job, "test")):
            details = event["details"]
            if details.get("key") == key and details.get("ok") is True and not details.get("reused"):
                report = {k: v for k, v in details.items() if k != "version"}  # the key covers the version
                return {**report, "tested_in": event["run_id"]}
        return None

    # -- deployments --------------------------------------------------------------------------

    def record_deployment(
        self,
        *,
        job: str,
        environment: str,
        version: str,
        artifact_sha256: str,
        script_location: str,
        definition: dict[str, Any],
        run_id: str,
        who: str = "",
        kind: str = "deployment",
    ) -> Deployment:
        """Record that ``environment`` now runs ``version`` with ``definition``."""
        at = _now()
        item = {
            "pk": f"JOB#{job}",
            "sk": f"DEPLOY#{environment}#{at}#{uuid.uuid4().hex[:8]}",
            "job": job,
            "environment": environment,
            "version": version,
            "artifact_sha256": artifact_sha256,
            "script_location": script_location,
            "definition": json.dumps(definition, sort_keys=True),
            "outcome": "deployed",
            "kind": kind,
            "at": at,
            "run_id": run_id,
        }
        self.db.put_item(TableName=self.table, Item=_marshal(item))
        self.record(job, kind, run_id=run_id, who=who, environment=environment, version=version)
        return Deployment.from_item(item)

    def set_outcome(self, deployment: Deployment, outcome: str) -> None:
        """Mark a deployment ``verified`` or ``failed``."""
        self.db.update_item(
            TableName=self.table,
            Key=_marshal({"pk": f"JOB#{deployment.job}", "sk": deployment.sk}),
            UpdateExpression="SET outcome = :o",
            ExpressionAttributeValues=_marshal({":o": outcome}),
        )

    def deployments(self, job: str, environment: str) -> list[Deployment]:
        """Deployments of the job to ``environment``, oldest first."""
        return [Deployment.from_item(i) for i in self._query(job, f"DEPLOY#{environment}#")]

    def live(self, job: str, environment: str) -> Deployment | None:
        """What the environment runs according to the ledger (its latest deployment)."""
        deployments = self.deployments(job, environment)
        return deployments[-1] if deployments else None

    # -- locks --------------------------------------------------------------------------------

    def acquire(self, job: str, environment: str, owner: str, ttl: int = LOCK_TTL_SECONDS) -> None:
        """Take the job's lock for ``environment``; re-entrant for the same owner, expired locks are taken over."""
        now = int(time.time())
        try:
            self.db.put_item(
                TableName=self.table,
                Item=_marshal(
                    {
                        "pk": f"JOB#{job}",
                        "sk": f"LOCK#{environment}",
                        "owner": owner,
                        "expires_at": now + ttl,
                        "taken_at": _now(),
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR #o = :owner OR expires_at < :now",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=_marshal({":owner": owner, ":now": now}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            holder = self.lock_holder(job, environment) or {}
            raise LockHeldError(
                f"{job} in {environment} is locked by {holder.get('owner', 'another run')} "
                f"(taken {holder.get('taken_at', '?')}, expires {_epoch(holder.get('expires_at'))}); "
                "wait for it to finish, or let the lock expire"
            ) from exc

    def release(self, job: str, environment: str, owner: str) -> None:
        """Give the lock back if ``owner`` holds it (a no-op otherwise, so retries are safe)."""
        try:
            self.db.delete_item(
                TableName=self.table,
                Key=_marshal({"pk": f"JOB#{job}", "sk": f"LOCK#{environment}"}),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=_marshal({":owner": owner}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def lock_holder(self, job: str, environment: str) -> dict[str, Any] | None:
        response = self.db.get_item(
            TableName=self.table,
            Key=_marshal({"pk": f"JOB#{job}", "sk": f"LOCK#{environment}"}),
            ConsistentRead=True,
        )
        return _unmarshal(response["Item"]) if "Item" in response else None

    # -- helpers ------------------------------------------------------------------------------

    def _query(self, job: str, prefix: str) -> list[dict[str, Any]]:
        items, kwargs = [], {}
        while True:
            response = self.db.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues=_marshal({":pk": f"JOB#{job}", ":prefix": prefix}),
                ConsistentRead=True,
                **kwargs,
            )
            items += [_unmarshal(i) for i in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return items
            kwargs = {"ExclusiveStartKey": response["LastEvaluatedKey"]}


def _epoch(value: Any) -> str:
    if value is None:
        return "?"
    return datetime.fromtimestamp(int(value), UTC).isoformat(timespec="seconds")


def _marshal(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items()}


def _unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}
