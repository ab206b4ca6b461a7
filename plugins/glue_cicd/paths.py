"""Where the project's folders are: the plugins folder sits in the project root."""

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
# GLUE_CICD_JOBS_DIR points at another folder of job sources (a separate checkout, say).
JOBS_DIR = Path(os.environ.get("GLUE_CICD_JOBS_DIR") or PROJECT_DIR / "glue_jobs")
# GLUE_CICD_FUNCTIONS_DIR does the same for Lambda functions.
FUNCTIONS_DIR = Path(os.environ.get("GLUE_CICD_FUNCTIONS_DIR") or PROJECT_DIR / "lambda_functions")
# GLUE_CICD_STATE_MACHINES_DIR, for Step Functions state machines.
STATE_MACHINES_DIR = Path(os.environ.get("GLUE_CICD_STATE_MACHINES_DIR") or PROJECT_DIR / "state_machines")
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
# localglue: Glue's catalog reads on local Spark, on the PYTHONPATH of job code run outside Glue.
LOCAL_RUNTIME_DIR = PROJECT_DIR / "local_runtime"
# GLUE_CICD_ENVIRONMENTS_FILE selects another environments config (the emulator's, a real
# account's); without it, the strict default.
DEFAULT_ENVIRONMENTS_FILE = PROJECT_DIR / "infrastructure" / "environments.yaml"


def environments_file() -> Path:
    return Path(os.environ.get("GLUE_CICD_ENVIRONMENTS_FILE") or DEFAULT_ENVIRONMENTS_FILE)


ENVIRONMENTS_FILE = environments_file()
