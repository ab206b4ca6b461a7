"""The runtime pins alone (requirements.txt, what the Airflow image installs) parse the DAGs:
no emulator, no development tools needed to run the pipelines against real AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dev import PROJECT_DIR

pytestmark = pytest.mark.e2e

PROBE = """
import importlib.util, json, os
import airflow  # noqa: F401 - sets up sys.path
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
print(json.dumps({
    "dags": sorted(bag.dag_ids),
    "errors": {os.path.basename(k): v for k, v in bag.import_errors.items()},
    "absent": [m for m in ("moto", "local_aws", "dev", "ruff") if importlib.util.find_spec(m) is None],
    "hooks": __import__("glue_cicd.hooks.glue_jobs", fromlist=["x"]).GlueJobDefinitionHook.__mro__[1].__name__,
}))
"""


def test_runtime_pins_alone_parse_every_dag(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The pins are a full lock: install them without resolving, then let pip check the set is whole.
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "-r", str(PROJECT_DIR / "requirements.txt")],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_DIR / "plugins"),
    }
    # Airflow puts plugins/ on sys.path when it is imported; the project root (local_aws/, dev/) is not.
    probe = subprocess.run(
        [str(python), "-c", PROBE],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-3000:]
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert {"release__process_sales_data", "release__daily_sales_summary", "rollback_glue_job",
            "revalidate_prod_datasets"} <= set(result["dags"])  # fmt: skip
    assert result["absent"] == ["moto", "local_aws", "dev", "ruff"]
    assert result["hooks"] == "AwsBaseHook"
