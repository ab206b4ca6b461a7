"""The Python runtime of one local Lambda invocation (run as a script by the Lambda executor).

Reads the event (JSON) from stdin, imports ``<module>.<function>`` (argv[1]) from the working
directory (the unpacked deployment package), calls it with the event and a context object, and
writes the outcome as JSON to the file named by ``LOCAL_LAMBDA_RESULT``:
``{"ok": true, "payload": ...}`` or ``{"ok": false, "error": {errorMessage, errorType, stackTrace}}``,
the error document AWS's Python runtime returns. What the handler prints is its log.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback

# AWS's error types for a handler that cannot be loaded or whose result cannot be serialised.
IMPORT_ERROR = "Runtime.ImportModuleError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MARSHAL_ERROR = "Runtime.MarshalError"


class LambdaContext:
    """The attributes and method of the context object AWS passes to Python handlers."""

    def __init__(self, deadline: float):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = os.environ["LOCAL_LAMBDA_INVOKED_ARN"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = os.environ["LOCAL_LAMBDA_REQUEST_ID"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(kind: str, message: str, stack: list[str] | None = None) -> dict:
    return {"ok": False, "error": {"errorMessage": message, "errorType": kind, "stackTrace": stack or []}}


def invoke(handler: str, event_text: str, deadline: float) -> dict:
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        return _error(IMPORT_ERROR, f"Unable to import module '{module_name}': {exc}")
    function = getattr(module, function_name, None)
    if not callable(function):
        return _error(HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'")
    event = json.loads(event_text) if event_text.strip() else {}
    try:
        result = function(event, LambdaContext(deadline))
    except Exception as exc:
        stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
        traceback.print_exc()
        return _error(type(exc).__name__, str(exc), [line.rstrip("\n") for line in stack])
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return _error(MARSHAL_ERROR, f"Unable to marshal response: {exc}")
    return {"ok": True, "payload": result}


def main() -> None:
    # Run isolated (-I -S): the package, then the runtime's libraries, then the standard library.
    sys.path[:0] = [os.getcwd(), *filter(None, os.environ.get("LOCAL_LAMBDA_PATH", "").split(os.pathsep))]
    deadline = float(os.environ["LOCAL_LAMBDA_DEADLINE"])
    outcome = invoke(sys.argv[1], sys.stdin.read(), deadline)
    sys.stdout.flush()
    with open(os.environ["LOCAL_LAMBDA_RESULT"], "w", encoding="utf-8") as result:
        json.dump(outcome, result)


if __name__ == "__main__":
    main()
