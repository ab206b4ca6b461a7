"""Step Functions state machines: validate a definition, publish versions, route an alias, start
and describe executions, and count a version's failed executions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

FAILED = ("FAILED", "TIMED_OUT", "ABORTED")
# What a service without ValidateStateMachineDefinition answers (our own check then stands alone).
UNSUPPORTED = {"UnknownOperationException", "InvalidAction", "NotImplemented", "500"}


class StateMachineHook(AwsBaseHook):
    """One environment's state machines. Takes the :class:`AwsBaseHook` arguments.

    ``name`` arguments are a state machine's ARN; versions and aliases are ARNs too.
    """

    def __init__(self, *args, **kwargs):
        kwargs["client_type"] = "stepfunctions"
        super().__init__(*args, **kwargs)

    def find(self, name: str) -> str | None:
        """The ARN of the state machine called ``name``, or None."""
        for page in self.conn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == name:
                    return machine["stateMachineArn"]
        return None

    def validate(self, definition: str, machine_type: str) -> list[str] | None:
        """AWS's ``ValidateStateMachineDefinition`` errors (empty: valid), or None where the
        service does not have it."""
        try:
            answer = self.conn.validate_state_machine_definition(
                definition=definition, type=machine_type, severity="ERROR"
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in UNSUPPORTED or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 500:
                return None
            raise
        return [f"{d.get('code')}: {d.get('message')} (at {d.get('location') or '/'})" for d in answer["diagnostics"]]

    def definition_of(self, arn: str) -> tuple[str, str]:
        """A state machine's or version's definition and role."""
        described = self.conn.describe_state_machine(stateMachineArn=arn)
        return described["definition"], described["roleArn"]

    def publish(self, name: str, definition: str, role_arn: str, machine_type: str, description: str,
                tags: dict[str, str]) -> tuple[str, str]:  # fmt: skip
        """Create or update the state machine ``name`` and publish a version; return its ARN and the version's."""
        arn = self.find(name)
        if arn is None:
            created = self.conn.create_state_machine(
                name=name, definition=definition, roleArn=role_arn, type=machine_type, publish=True,
                versionDescription=description, tags=[{"key": k, "value": v} for k, v in sorted(tags.items())],
            )  # fmt: skip
            return created["stateMachineArn"], created["stateMachineVersionArn"]
        updated = self.conn.update_state_machine(
            stateMachineArn=arn, definition=definition, roleArn=role_arn, publish=True, versionDescription=description
        )
        return arn, updated["stateMachineVersionArn"]

    def routing(self, arn: str, alias: str) -> tuple[str, dict[str, float]] | None:
        """Where ``alias`` sends executions: its main version and the others' shares (None: no alias)."""
        try:
            described = self.conn.describe_state_machine_alias(stateMachineAliasArn=f"{arn}:{alias}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFound":
                return None
            raise
        routes = sorted(described["routingConfiguration"], key=lambda r: -r["weight"])
        return routes[0]["stateMachineVersionArn"], {r["stateMachineVersionArn"]: r["weight"] / 100 for r in routes[1:]}

    def route(self, arn: str, alias: str, version: str, extra: dict[str, float] | None = None) -> None:
        """Point ``alias`` at ``version``, with ``extra`` (version -> share of executions) on another."""
        extra = extra or {}
        routes = [{"stateMachineVersionArn": v, "weight": round(share * 100)} for v, share in extra.items()]
        routing = [{"stateMachineVersionArn": version, "weight": 100 - sum(r["weight"] for r in routes)}, *routes]
        if self.routing(arn, alias) is None:
            self.conn.create_state_machine_alias(name=alias, routingConfiguration=routing)
        else:
            self.conn.update_state_machine_alias(stateMachineAliasArn=f"{arn}:{alias}", routingConfiguration=routing)

    def start(self, arn: str, name: str, execution_input: Any) -> str:
        """Start an execution (idempotent for the same name and input while it runs); its ARN."""
        import json

        started = self.conn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(execution_input))
        return started["executionArn"]

    def execution(self, execution_arn: str) -> dict[str, Any]:
        """An execution's status, version, output (parsed) or error and cause."""
        import json

        described = self.conn.describe_execution(executionArn=execution_arn)
        output = described.get("output")
        return {
            "status": described["status"],
            "version": described.get("stateMachineVersionArn"),
            "output": json.loads(output) if output else None,
            "error": described.get("error"),
            "cause": described.get("cause"),
        }

    def version_calls(self, arn: str, alias: str, version: str, start: datetime, end: datetime) -> tuple[float, float]:
        """Executions of ``version`` started between ``start`` and ``end``, and how many of them
        failed, timed out or were aborted."""
        executions = [
            e
            for page in self.conn.get_paginator("list_executions").paginate(stateMachineArn=version)
            for e in page["executions"]
            if start <= e["startDate"] < end
        ]
        return float(len(executions)), float(sum(e["status"] in FAILED for e in executions))
