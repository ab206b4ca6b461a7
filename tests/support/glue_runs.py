"""Wait for Glue job runs on the emulator."""

from __future__ import annotations

import time

TERMINAL = {"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR"}


def wait_for_run(glue, name: str, run_id: str, timeout: float = 180) -> dict:
    """Poll ``GetJobRun`` until the run ends; return its ``JobRun``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if run["JobRunState"] in TERMINAL:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} of {name} did not finish within {timeout}s")
