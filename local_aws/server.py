"""The emulator process: moto's services over HTTP plus our Glue additions and bootstrap."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from local_aws import catalog_api, glue_api, lambda_api, logs_api, states_api
from local_aws.executor import LocalGlueExecutor
from local_aws.lambda_executor import LocalLambdaExecutor

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class EmulatorError(RuntimeError):
    """The emulator cannot start (port in use, bad bootstrap input, ...)."""


class Emulator:
    """moto's server with Glue ``UpdateJob``/``BatchStopJobRun``, a local Glue executor, the
    Glue Data Catalog as AWS answers it (:mod:`local_aws.catalog_api`), Lambda functions that
    really run (:mod:`local_aws.lambda_api`) and Step Functions executions that run them
    (:mod:`local_aws.states_api`).

    moto keeps its state per process, so run one emulator per process.

    :param host: address to listen on.
    :param port: port to listen on (0 picks a free one).
    :param seconds_per_minute: how long one minute of a Glue ``Timeout`` lasts here.
    :param workdir: where job runs keep their scripts, inputs and outputs.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5000,
        seconds_per_minute: float = 60.0,
        workdir: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.seconds_per_minute = seconds_per_minute
        self.workdir = workdir
        self.executor: LocalGlueExecutor | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Emulator:
        """Bind the port (failing fast if it is taken) and serve in a background thread."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        try:
            self._server = make_server(self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler)
        except (OSError, SystemExit) as exc:  # werkzeug exits when the port is taken
            reason = getattr(exc, "strerror", None) or "Address already in use"
            raise EmulatorError(
                f"cannot listen on {self.host}:{self.port}: {reason}. "
                "Another process (perhaps another emulator) holds the port: stop it or pass --port."
            ) from None
        self.port = self._server.server_address[1]
        self.executor = LocalGlueExecutor(
            endpoint_url=self.endpoint_url,
            seconds_per_minute=self.seconds_per_minute,
            workdir=self.workdir,
        )
        glue_api.install(self.executor)
        lambda_workdir = self.workdir / "lambda" if self.workdir else None
        lambda_api.install(LocalLambdaExecutor(endpoint_url=self.endpoint_url, workdir=lambda_workdir))
        catalog_api.install()
        logs_api.install()
        states_api.install(self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        log.info("AWS emulator listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        """Kill running job runs and stop serving."""
        if self.executor is not None:
            self.executor.shutdown()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
