"""The README's "Using it in your CI" recipe, run exactly as written in a fresh copy of the
repository (its committed files, with the set-up command's `.venv`)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess

import pytest

from dev import PROJECT_DIR

pytestmark = pytest.mark.e2e


def recipe() -> str:
    readme = (PROJECT_DIR / "README.md").read_text()
    block = re.search(r"<!-- ci-recipe -->\s*```bash\n(.*?)```\s*<!-- /ci-recipe -->", readme, re.DOTALL)
    assert block, "README.md has no ci-recipe block"
    return block.group(1)


@pytest.fixture
def fresh_copy(tmp_path):
    """The repository's tracked files (as a clone has them) plus the set-up command's .venv."""
    target = tmp_path / "checkout"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, files):
        source = PROJECT_DIR / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid", "commit", "-qm", "copy"],
        cwd=target, check=True,
    )  # fmt: skip
    (target / ".venv").symlink_to(PROJECT_DIR / ".venv")
    return target


def test_the_readme_ci_recipe_releases_a_job(fresh_copy):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GLUE_CICD", "PYTHONPATH", "PYTEST"))}
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", recipe()],
        cwd=fresh_copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=1500)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, output[-4000:]
    with sqlite3.connect(fresh_copy / ".local" / "ci" / "airflow" / "airflow.db") as db:
        state = db.execute("SELECT state FROM dag_run WHERE dag_id = 'release__process_sales_data'").fetchone()
        tasks = dict(
            db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = 'release__process_sales_data'")
        )
    assert state == ("success",), output[-4000:]
    assert tasks["verify_prod"] == "success"
    assert tasks["rollback_prod"] == "skipped"
