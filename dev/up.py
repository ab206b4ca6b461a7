"""``make up``: the local AWS emulator plus ``airflow standalone`` with this project's DAGs.

Both start clean every time (the emulator keeps its state in memory, so Airflow's metadata is
reset with it: no release history for resources that no longer exist). Ctrl-C stops both.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading

from dev import PROJECT_DIR
from dev.emulator import ProjectEmulator
from dev.local_airflow import AirflowStandalone, airflow_env

STATE_DIR = PROJECT_DIR / ".local" / "up"
# Two people: the one who triggers a release cannot approve it. The reviewer is not an admin.
USERS = ("admin:admin", "reviewer:user")


def main() -> int:
    emulator_port = int(os.environ.get("GLUE_CICD_EMULATOR_PORT", "5000"))
    airflow_port = int(os.environ.get("GLUE_CICD_AIRFLOW_PORT", "8080"))
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    STATE_DIR.mkdir(parents=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"Starting the local AWS emulator on port {emulator_port} ...", flush=True)
    try:
        emulator = ProjectEmulator(port=emulator_port, log_file=STATE_DIR / "emulator.log").start()
    except RuntimeError as exc:
        print(f"error: {exc}; is port {emulator_port} free? (set GLUE_CICD_EMULATOR_PORT)", file=sys.stderr)
        return 2
    airflow = AirflowStandalone(
        airflow_env(STATE_DIR / "airflow", emulator.endpoint_url), users=USERS, port=airflow_port
    )
    try:
        print("Starting Airflow (standalone: api-server, scheduler, dag-processor, triggerer) ...", flush=True)
        airflow.start()
        print(f"\nAirflow UI:    {airflow.url}")
        for user, password in airflow.passwords().items():
            print(f"  user {user:<9} password {password}")
        print(f"AWS emulator:  {emulator.endpoint_url} (connection aws_default)")
        print(f"Logs:          {STATE_DIR}\nCtrl-C stops everything.", flush=True)
        stop.wait()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        print("Stopping ...", flush=True)
        airflow.stop()
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
