"""Where the project's folders are: the plugins folder sits in the project root."""

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
# GLUE_CICD_JOBS_DIR points at another folder of job sources (a separate checkout, say).
JOBS_DIR = Path(os.environ.get("GLUE_CICD_JOBS_DIR") or PROJECT_DIR / "glue_jobs")
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
INFRASTRUCTURE_DIR = PROJECT_DIR / "infrastructure"
CLOUDFORMATION_TEMPLATE = INFRASTRUCTURE_DIR / "cloudformation.yaml"
# GLUE_CICD_ENVIRONMENTS_FILE points at another environments config (real AWS, say).
ENVIRONMENTS_FILE = Path(os.environ.get("GLUE_CICD_ENVIRONMENTS_FILE") or INFRASTRUCTURE_DIR / "environments.yaml")
