"""The release ledger in DynamoDB: events, deployments and locks (see :mod:`glue_cicd.ledger`)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from glue_cicd.ledger import LOCK_TTL_SECONDS, Deployment, LockHeldError, epoch, marshal, timestamp, unmarshal


class LedgerHook(AwsBaseHook):
    """Release history and locks in one DynamoDB table (``pk``/``sk`` string keys).

    :param table: the table name (``ledger_table`` in the environments config).
    Also takes the :class:`AwsBaseHook` arguments (``aws_conn_id``, ``region_name``).
    """

    def __init__(self, *args, table: str, **kwargs):
        kwargs["client_type"] = "dynamodb"
        super().__init__(*args, **kwargs)
        self.table = table

    # -- events -------------------------------------------------------------------------------

    def record(self, job: str, event: str, *, run_id: str = "", who: str = "", **details: Any) -> dict[str, Any]:
        """Append an event (``build``, ``deployment``, ``approval``, ...) to the job's history."""
        at = timestamp()
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
        self.conn.put_item(TableName=self.table, Item=marshal(item))
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
        data: dict[str, str] | None = None,
    ) -> Deployment:
        """Record that ``environment`` now runs ``version`` with ``definition`` (and publishes the
        datasets of ``data``: dataset -> publish manifest URI)."""
        at = timestamp()
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
        if data:
            item["data"] = json.dumps(data, sort_keys=True)
        self.conn.put_item(TableName=self.table, Item=marshal(item))
        self.record(job, kind, run_id=run_id, who=who, environment=environment, version=version, data=data or {})
        return Deployment.from_item(item)

    def record_run(
        self, *, job: str, environment: str, release: Deployment, generation: str, data: dict[str, str], run_id: str
    ) -> dict[str, Any]:
        """Record that a run of the live ``release`` published ``generation`` (``data``: dataset ->
        publish manifest URI); a rollback of that release undoes it."""
        at = timestamp()
        item = {
            "pk": f"JOB#{job}",
            "sk": f"RUN#{environment}#{at}#{uuid.uuid4().hex[:8]}",
            "job": job,
            "environment": environment,
            "release": release.sk,
            "version": release.version,
            "generation": generation,
            "data": json.dumps(data, sort_keys=True),
            "outcome": "published",
            "at": at,
            "run_id": run_id,
        }
        self.conn.put_item(TableName=self.table, Item=marshal(item))
        self.record(job, "run", run_id=run_id, environment=environment, version=release.version,
                    generation=generation, data=data)  # fmt: skip
        return {**item, "data": data}

    def runs(self, job: str, environment: str) -> list[dict[str, Any]]:
        """The publishes of runs of the job in ``environment`` (``data`` decoded), oldest first."""
        items = self._query(job, f"RUN#{environment}#")
        return [{**item, "data": json.loads(item["data"])} for item in items]

    def set_run_outcome(self, run: dict[str, Any], outcome: str) -> None:
        """Mark a run's publish ``withdrawn`` (undone after a failed check) or ``rolled_back``."""
        self.conn.update_item(
            TableName=self.table,
            Key=marshal({"pk": f"JOB#{run['job']}", "sk": run["sk"]}),
            UpdateExpression="SET outcome = :o",
            ExpressionAttributeValues=marshal({":o": outcome}),
        )

    def set_data(self, deployment: Deployment, data: dict[str, str]) -> None:
        """Record the publish manifests of the datasets a deployment published after it was recorded."""
        self.conn.update_item(
            TableName=self.table,
            Key=marshal({"pk": f"JOB#{deployment.job}", "sk": deployment.sk}),
            UpdateExpression="SET #d = :d",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues=marshal({":d": json.dumps(data, sort_keys=True)}),
        )

    def set_outcome(self, deployment: Deployment, outcome: str) -> None:
        """Mark a deployment ``verified`` or ``failed``."""
        self.conn.update_item(
            TableName=self.table,
            Key=marshal({"pk": f"JOB#{deployment.job}", "sk": deployment.sk}),
            UpdateExpression="SET outcome = :o",
            ExpressionAttributeValues=marshal({":o": outcome}),
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
            self.conn.put_item(
                TableName=self.table,
                Item=marshal(
                    {
                        "pk": f"JOB#{job}",
                        "sk": f"LOCK#{environment}",
                        "owner": owner,
                        "expires_at": now + ttl,
                        "taken_at": timestamp(),
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR #o = :owner OR expires_at < :now",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=marshal({":owner": owner, ":now": now}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            holder = self.lock_holder(job, environment) or {}
            raise LockHeldError(
                f"{job} in {environment} is locked by {holder.get('owner', 'another run')} "
                f"(taken {holder.get('taken_at', '?')}, expires {epoch(holder.get('expires_at'))}); "
                "wait for it to finish, or let the lock expire"
            ) from exc

    def release(self, job: str, environment: str, owner: str) -> None:
        """Give the lock back if ``owner`` holds it (a no-op otherwise, so retries are safe)."""
        try:
            self.conn.delete_item(
                TableName=self.table,
                Key=marshal({"pk": f"JOB#{job}", "sk": f"LOCK#{environment}"}),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=marshal({":owner": owner}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def lock_holder(self, job: str, environment: str) -> dict[str, Any] | None:
        response = self.conn.get_item(
            TableName=self.table,
            Key=marshal({"pk": f"JOB#{job}", "sk": f"LOCK#{environment}"}),
            ConsistentRead=True,
        )
        return unmarshal(response["Item"]) if "Item" in response else None

    # -- helpers ------------------------------------------------------------------------------

    def _query(self, job: str, prefix: str) -> list[dict[str, Any]]:
        items, kwargs = [], {}
        while True:
            response = self.conn.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues=marshal({":pk": f"JOB#{job}", ":prefix": prefix}),
                ConsistentRead=True,
                **kwargs,
            )
            items += [unmarshal(i) for i in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return items
            kwargs = {"ExclusiveStartKey": response["LastEvaluatedKey"]}
