"""Step Functions as AWS runs it, on moto's ASL interpreter.

moto executes state machines only with its ``stepfunctions.execute_state_machine`` setting; its
service integrations then call this server back (``MOTO_PORT``), so a ``glue:startJobRun.sync``
task runs on the local Glue executor and a Lambda task on the local Lambda executor. Added here:
executions of a version or an alias (an alias's ``routingConfiguration`` weights pick the version
each execution runs, and ``DescribeExecution`` names both), an execution name when none is given,
``ValidateStateMachineDefinition`` (moto's ASL parser as the validator), ``.sync`` tasks of
services without a task-token callback (Glue: moto's wait fails on the absent callback), and
definite JSONPaths through an array index (``$.files[0].rows``) selecting one value, as on AWS,
where moto wraps it in a list.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import re
import threading
import time
import uuid
from typing import Any

from moto.core.config import default_user_config
from moto.core.responses import ActionResult
from moto.stepfunctions.models import StateMachine, StateMachineAlias, StateMachineVersion
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

_original_start = StepFunctionsParserBackend.start_execution
_original_describe = StepFunctionResponse.describe_execution
_original_integration = StateTaskServiceCallback._eval_integration_pattern
_original_extract = json_path.extract_json
SYNC_POLL_SECONDS = 0.5
# A path of names and indexes only (no wildcard, slice, filter or union) selects one value.
_DEFINITE_PATH = re.compile(r"^\$(?:\.[A-Za-z0-9_$-]+|\[\d+\])*$")
_INNER_INDEX = re.compile(r"\[\d+\]\.")
_JSON_PATH_USERS = (
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.intrinsic.argument.argument",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.timestamp_operators",
)
# execution ARN -> the version and alias ARNs it was started through
_origins: dict[str, dict[str, str]] = {}
_lock = threading.Lock()
_random = random.Random()


def install(port: int) -> None:
    """Run this process's state machine executions; their integrations call back on ``port``."""
    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    os.environ["MOTO_PORT"] = str(port)
    StepFunctionsParserBackend.start_execution = start_execution
    StateMachineVersion._handle_name_input_idempotency = StateMachine._handle_name_input_idempotency
    StepFunctionsParserBackend.validate_state_machine_definition = validate_definition
    StepFunctionResponse.describe_execution = describe_execution_response
    StepFunctionResponse.validate_state_machine_definition = validate_definition_response
    StateTaskServiceCallback._eval_integration_pattern = eval_integration_pattern
    json_path.extract_json = extract_json
    for module in _JSON_PATH_USERS:
        importlib.import_module(module).extract_json = extract_json


def extract_json(path: str, data: Any) -> Any:
    """What a JSONPath selects; a definite path through an index (``$.a[0].b``) gives the value itself."""
    value = _original_extract(path, data)
    if isinstance(value, list) and len(value) == 1 and _DEFINITE_PATH.match(path) and _INNER_INDEX.search(path):
        return value[0]
    return value


def eval_integration_pattern(self, env, resource_runtime_part, normalised_parameters, state_credentials) -> None:
    """A ``.sync`` task of a service without callbacks: poll its resolver (e.g. ``GetJobRun``)
    until the job ends; the task's answer replaces the service call's on the stack."""
    if ResourceCondition.WaitForTaskToken in self._supported_integration_patterns:
        return _original_integration(self, env, resource_runtime_part, normalised_parameters, state_credentials)
    self.timeout.eval(env=env)  # the state's timeout is enforced around the task; drop its value
    env.stack.pop()
    sync = self.resource.condition == ResourceCondition.Sync
    build = self._build_sync_resolver if sync else self._build_sync2_resolver
    resolve = build(env=env, resource_runtime_part=resource_runtime_part,
                    normalised_parameters=normalised_parameters, state_credentials=state_credentials)  # fmt: skip
    result = None
    while env.is_running() and not (result := resolve()):
        time.sleep(SYNC_POLL_SECONDS)
    env.stack.append(result)


def routed_version(alias: StateMachineAlias, draw: float) -> str:
    """The version ARN an execution of ``alias`` runs: the routing entry ``draw`` (in [0, 1)) falls in."""
    threshold = 0.0
    routes = sorted(alias.routing_configuration, key=lambda r: r["stateMachineVersionArn"])
    for route in routes:
        threshold += int(route["weight"]) / 100
        if draw < threshold:
            return route["stateMachineVersionArn"]
    return routes[-1]["stateMachineVersionArn"]


def start_execution(self: StepFunctionsParserBackend, state_machine_arn: str, name: str | None = None,
                    execution_input: str | None = None, trace_header: str | None = None) -> Any:  # fmt: skip
    """Start an execution of a state machine, one of its versions (``...:3``) or an alias (``...:live``)."""
    name = name or str(uuid.uuid4())
    origin: dict[str, str] = {}
    qualifier = state_machine_arn.partition(":stateMachine:")[2].partition(":")[2]
    if qualifier:
        source = self.describe_state_machine(state_machine_arn.rsplit(":", 1)[0])
        if not qualifier.isdigit():
            alias = self.describe_state_machine_alias(state_machine_arn)
            with _lock:
                state_machine_arn = routed_version(alias, _random.random())
            origin["stateMachineAliasArn"] = alias.arn
        origin["stateMachineVersionArn"] = state_machine_arn
        # Execution names are unique per state machine, whichever version ran them.
        if existing := source._handle_name_input_idempotency(name, execution_input or "{}"):
            return existing
        version = self.describe_state_machine(state_machine_arn)
        version.backend = source.backend
        execution = _original_start(self, state_machine_arn, name, execution_input, trace_header)
        source.executions.append(execution)  # listed and described through the state machine too
        _origins[execution.execution_arn] = origin
        return execution
    return _original_start(self, state_machine_arn, name, execution_input, trace_header)


def describe_execution_response(self: StepFunctionResponse) -> ActionResult:
    """``DescribeExecution``, naming the version and alias an execution was started through."""
    result = _original_describe(self)
    origin = _origins.get(self._get_param("executionArn"))
    if origin:
        result.result.update(origin)  # type: ignore[union-attr]
    return result


def validate_definition(self: StepFunctionsParserBackend, definition: str) -> dict[str, Any]:
    """``ValidateStateMachineDefinition``: ``OK``, or ``FAIL`` with the parser's diagnostic."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    try:
        json.loads(definition)
    except ValueError as exc:
        return _failed("INVALID_JSON_DESCRIPTION", f"the definition is not JSON: {exc}")
    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as exc:  # the parser raises its own and ANTLR's errors
        return _failed("SCHEMA_VALIDATION_FAILED", str(exc) or type(exc).__name__)
    return {"result": "OK", "diagnostics": [], "truncated": False}


def _failed(code: str, message: str) -> dict[str, Any]:
    diagnostic = {"severity": "ERROR", "code": code, "message": message[:1000], "location": "/"}
    return {"result": "FAIL", "diagnostics": [diagnostic], "truncated": False}


def validate_definition_response(self: StepFunctionResponse) -> ActionResult:
    return ActionResult(self.stepfunction_backend.validate_state_machine_definition(self._get_param("definition")))
