"""Run the emulator as a child process and wait until it is ready."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

READY = "AWS emulator ready on "
# The folder holding this package, so ``python -m local_aws`` finds it from any working directory.
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


class EmulatorProcess:
    """``python -m local_aws`` in a child process, ready once it has bootstrapped.

    :param port: port to listen on; 0 picks a free one.
    :param args: more command-line arguments (``--template``, ``--seed-dir``, ...).
    :param log_file: where its output goes (inherited stderr when None).
    :param startup_timeout: seconds to wait for it to be ready.
    :param env: environment variables to set or override for the child.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        args: list[str] | None = None,
        log_file: Path | None = None,
        startup_timeout: float = 90,
        env: dict[str, str] | None = None,
    ):
        self.port = port
        self.env = env or {}
        self.args = args or []
        self.log_file = log_file
        self.startup_timeout = startup_timeout
        self.endpoint_url = ""
        self._process: subprocess.Popen | None = None

    def start(self) -> EmulatorProcess:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        env.update(self.env)
        stderr = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115 - lives with the process
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local_aws", "--port", str(self.port), *self.args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            env=env,
        )
        deadline = time.monotonic() + self.startup_timeout
        assert self._process.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._process.stdout], [], [], 0.5)
            if ready:
                line = self._process.stdout.readline()
                if line.startswith(READY):
                    self.endpoint_url = line[len(READY) :].strip()
                    return self
                if not line and self._process.poll() is not None:
                    break
        code = self._process.poll()
        self.stop()
        where = f" (see {self.log_file})" if self.log_file else ""
        raise RuntimeError(f"the AWS emulator did not start (exit code {code}){where}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL for the whole process group if it does not exit in time."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
