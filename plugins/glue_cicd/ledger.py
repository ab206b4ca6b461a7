"""The release ledger's model: release history, live versions and per-environment locks, kept in
one DynamoDB table by :class:`glue_cicd.hooks.ledger.LedgerHook`.

Items, all under ``pk = JOB#<job>``:

- ``sk = EVENT#<time>#<id>``: every build, test, deployment, approval, promotion, quality
  result, verification and rollback (who, when, DAG run, version, details).
- ``sk = DEPLOY#<env>#<time>#<id>``: each deployment's full job definition and artifact, and the
  publish manifest of each dataset it published (``data``), so a rollback restores code and data;
  ``outcome`` is ``deployed``, then ``verified`` or ``failed``.
- ``sk = RUN#<env>#<time>#<id>``: each publish of a run of the live release (``run__<job>``):
  its generation, the publish manifests (``data``) and the release it ran (``release``: that
  deployment's ``sk``), so rolling the release back undoes what its runs published too.
- ``sk = LOCK#<env>``: the environment lock (owner = DAG run, expiry), taken by conditional write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from glue_cicd.errors import Refusal

LOCK_TTL_SECONDS = 6 * 3600


class LedgerError(Refusal):
    """The ledger refuses an operation (lock held, unknown version, ...)."""


class LockHeldError(LedgerError):
    """Another run holds the job's environment lock."""


def timestamp() -> str:
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
    kind: str = "deployment"
    data: dict[str, str] | None = None  # dataset -> publish manifest URI

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
            kind=item.get("kind", "deployment"),
            data=json.loads(item["data"]) if item.get("data") else None,
        )


def epoch(value: Any) -> str:
    if value is None:
        return "?"
    return datetime.fromtimestamp(int(value), UTC).isoformat(timespec="seconds")


def marshal(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items()}


def unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}
