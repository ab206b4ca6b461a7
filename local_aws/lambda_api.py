"""Lambda ``Invoke`` as AWS answers it, added to moto's Lambda backend.

moto runs handlers only in Docker. Here an invocation goes to the :class:`LocalLambdaExecutor`;
an alias's ``RoutingConfig`` is honoured (each call picks the alias's version or an additional
version with its weight, as weighted aliases do), and the response carries the version that ran.
"""

from __future__ import annotations

import base64
import random
import re
import threading
from typing import Any
from urllib.parse import unquote

from moto.awslambda.models import LambdaBackend
from moto.awslambda.responses import LambdaResponse

from local_aws.lambda_executor import LocalLambdaExecutor

_executor: LocalLambdaExecutor | None = None
_FUNCTION_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:(?P<name>[^:]+)(?::(?P<qualifier>.+))?$")


def install(executor: LocalLambdaExecutor) -> None:
    """Route this process's Lambda invocations through ``executor``."""
    global _executor
    _executor = executor
    LambdaBackend.invoke = invoke
    LambdaResponse.invoke = invoke_response


def invoke_response(self: LambdaResponse) -> tuple[int, dict[str, str], bytes]:
    """``Invoke``'s HTTP answer; unlike moto's, it reads the ``Qualifier`` the SDKs send."""
    function_name = unquote(self.path.rsplit("/", 2)[-2])
    qualifier = self.querystring.get("Qualifier", [None])[0]
    headers: dict[str, str] = {}
    payload = self.backend.invoke(function_name, qualifier, self.body, self.headers, headers)
    kind = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    if self.headers.get("X-Amz-Log-Type") != "Tail":
        headers.pop("x-amz-log-result", None)
    headers["content-type"] = "application/json"
    return {"Event": 202, "DryRun": 204}.get(kind, 200), headers, payload


def split(function_name: str, qualifier: str | None) -> tuple[str, str | None]:
    """A function name, ``name:qualifier`` or ARN (with or without qualifier), and the explicit qualifier."""
    match = _FUNCTION_ARN.match(function_name)
    name, embedded = (match["name"], match["qualifier"]) if match else (function_name.partition(":")[::2])
    return name, embedded or qualifier or None


def routed_version(alias: Any, draw: float) -> str:
    """The version an alias call runs: an additional version if ``draw`` (in [0, 1)) falls in its
    weight, else the alias's own."""
    weights = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
    threshold = 0.0
    for version, weight in sorted(weights.items()):
        threshold += float(weight)
        if draw < threshold:
            return str(version)
    return str(alias.function_version)


def invoke(
    self: LambdaBackend, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes:
    assert _executor is not None, "install() first"
    name, qualifier = split(function_name, qualifier)
    is_alias = bool(qualifier) and qualifier != "$LATEST" and not qualifier.isdigit()
    if is_alias:
        alias = self.get_alias(qualifier, name)
        function = self.get_function(name, routed_version(alias, random.random()))
    else:
        function = self.get_function(name, qualifier)
    resource = f"{function.function_name}:{qualifier}" if qualifier else None
    payload = body.encode() if isinstance(body, str) else (body or b"")
    kind = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    if kind == "DryRun":
        return b""
    if kind == "Event":
        threading.Thread(
            target=_executor.invoke,
            args=(function,),
            kwargs={"resource": resource, "alias": is_alias, "payload": payload},
            daemon=True,
        ).start()
        return b""
    result = _executor.invoke(function, resource=resource, alias=is_alias, payload=payload)
    response_headers["x-amz-executed-version"] = result.executed_version
    response_headers["x-amz-log-result"] = base64.b64encode(result.log_tail.encode()).decode()
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["Content-Length"] = str(len(result.payload))
    return result.payload
