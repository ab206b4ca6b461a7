"""Lambda functions: deploy a package and configuration, publish versions, route an alias, invoke,
and read a version's invocations and errors from CloudWatch."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from glue_cicd.errors import Refusal


class LambdaFunctionHook(AwsBaseHook):
    """One environment's Lambda functions. Takes the :class:`AwsBaseHook` arguments."""

    def __init__(self, *args, **kwargs):
        kwargs["client_type"] = "lambda"
        super().__init__(*args, **kwargs)

    def exists(self, name: str) -> bool:
        try:
            self.conn.get_function(FunctionName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        return True

    def publish(self, configuration: dict[str, Any], package: bytes, code_sha256: str) -> str:
        """Make ``$LATEST`` the package and configuration, publish it as a version and return its
        number. Refuses a published version whose code is not the package (a concurrent change)."""
        name = configuration["FunctionName"]
        if not self.exists(name):
            self.conn.create_function(**configuration, Code={"ZipFile": package}, Publish=False)
        else:
            self._wait_updated(name)
            self.conn.update_function_configuration(**configuration)
            self._wait_updated(name)
            self.conn.update_function_code(FunctionName=name, ZipFile=package)
        self._wait_updated(name)
        published = self.conn.publish_version(FunctionName=name, CodeSha256=code_sha256)
        if published["CodeSha256"] != code_sha256:
            raise Refusal(
                f"{name} version {published['Version']} holds code {published['CodeSha256']}, "
                f"not the artifact's {code_sha256}: the function changed meanwhile"
            )
        return str(published["Version"])

    def _wait_updated(self, name: str, timeout: float = 300) -> None:
        """Until the function's last update is done (AWS refuses changes while one is in progress)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.conn.get_function_configuration(FunctionName=name).get("LastUpdateStatus", "Successful")
            if status != "InProgress":
                if status == "Failed":
                    raise Refusal(f"{name}'s last update failed")
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} is still updating after {timeout:.0f} s")
            time.sleep(2)

    def code_sha256(self, name: str, version: str) -> str:
        return self.conn.get_function_configuration(FunctionName=name, Qualifier=version)["CodeSha256"]

    def alias(self, name: str, alias: str) -> dict[str, Any] | None:
        """The alias (``FunctionVersion``, ``RoutingConfig``), or None if there is none."""
        try:
            return self.conn.get_alias(FunctionName=name, Name=alias)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    def routing(self, name: str, alias: str) -> tuple[str, dict[str, float]] | None:
        """Where ``alias`` sends calls: its version and the other versions' weights (None: no alias)."""
        found = self.alias(name, alias)
        if found is None:
            return None
        return found["FunctionVersion"], (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}

    def route(self, name: str, alias: str, version: str, extra: dict[str, float] | None = None) -> None:
        """Point ``alias`` at ``version``, with ``extra`` (version -> share of calls) on others."""
        routing = {"AdditionalVersionWeights": extra or {}}
        if self.alias(name, alias) is None:
            self.conn.create_alias(FunctionName=name, Name=alias, FunctionVersion=version, RoutingConfig=routing)
        else:
            self.conn.update_alias(FunctionName=name, Name=alias, FunctionVersion=version, RoutingConfig=routing)

    def invoke(self, name: str, qualifier: str, event: Any) -> tuple[Any, str | None, str]:
        """Call the function synchronously; return its result, its ``FunctionError`` and the version that ran."""
        response = self.conn.invoke(FunctionName=name, Qualifier=qualifier, Payload=json.dumps(event).encode())
        body = response["Payload"].read()
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = body.decode("utf-8", "replace")
        return payload, response.get("FunctionError"), str(response.get("ExecutedVersion", qualifier))

    def version_calls(self, name: str, alias: str, version: str, start: datetime, end: datetime) -> tuple[float, float]:
        """Invocations and errors of ``version`` through ``alias`` between ``start`` and ``end``
        (CloudWatch's ``AWS/Lambda`` metrics with the ``ExecutedVersion`` dimension)."""
        cloudwatch = AwsBaseHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, client_type="cloudwatch"
        ).conn
        dimensions = [
            {"Name": "FunctionName", "Value": name},
            {"Name": "Resource", "Value": f"{name}:{alias}"},
            {"Name": "ExecutedVersion", "Value": version},
        ]
        totals = []
        for metric in ("Invocations", "Errors"):
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=dimensions,
                StartTime=start,
                EndTime=end,
                Period=60,
                Statistics=["Sum"],
            )
            totals.append(sum(p["Sum"] for p in points["Datapoints"]))
        return totals[0], totals[1]
