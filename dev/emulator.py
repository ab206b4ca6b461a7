"""The local AWS emulator loaded with this project: the stack of ``infrastructure/cloudformation.yaml``
and each job's sample inputs (``glue_jobs/<job>/tests/sample_data.py``) in every environment of
``infrastructure/environments.local.yaml``.

``python -m dev.emulator [emulator options]`` (``make emulator``) runs it in the foreground;
:class:`ProjectEmulator` runs it as a child process for the demo, ``make up`` and the tests.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from dev import LOCAL_ENVIRONMENTS, PROJECT_DIR
from local_aws.process import PACKAGE_ROOT, EmulatorProcess

log = logging.getLogger(__name__)

TEMPLATE = PROJECT_DIR / "infrastructure" / "cloudformation.yaml"
STACK_NAME = "glue-cicd"


def write_samples(folder: Path, environments_file: Path = LOCAL_ENVIRONMENTS) -> list[str]:
    """Write each job's sample inputs as ``<folder>/<bucket>/<key>`` for every environment.

    Inputs read ``from`` another job are that job's output, not seeded. Invalid specs are skipped
    with a warning (their own error shows where they are loaded). Returns the URIs laid out.
    """
    from glue_cicd.spec import load_environments, load_jobs

    environments = load_environments(environments_file)
    specs, errors = load_jobs(environments=environments)
    for error in errors.values():
        log.warning("not seeding: %s", error)
    written = []
    for spec in specs.values():
        inputs = [d for d in spec.datasets.inputs if d.path is not None]
        if not inputs:
            continue
        try:
            samples = importlib.import_module(f"{spec.name}.tests.sample_data")
        except ModuleNotFoundError:
            log.info("%s has no tests/sample_data.py: nothing to seed", spec.name)
            continue
        for dataset in inputs:
            files = samples.sample_files(dataset.name)
            for env in environments.environments.values():
                uri = dataset.path_in(env)
                prefix = Path(folder, uri[5:].rstrip("/"))
                for name, body in files.items():
                    (prefix / name).parent.mkdir(parents=True, exist_ok=True)
                    (prefix / name).write_bytes(body)
                written.append(uri)
    return written


def emulator_args(seed_dir: Path) -> list[str]:
    return ["--template", str(TEMPLATE), "--stack-name", STACK_NAME, "--seed-dir", str(seed_dir)]


class ProjectEmulator(EmulatorProcess):
    """:class:`EmulatorProcess` created with this project's stack and sample inputs."""

    def start(self) -> ProjectEmulator:
        self._seeds = tempfile.TemporaryDirectory(prefix="emulator-seed-")
        write_samples(Path(self._seeds.name))
        self.args = [*emulator_args(Path(self._seeds.name)), *self.args]
        super().start()
        return self

    def stop(self, timeout: float = 15) -> None:
        super().stop(timeout)
        if getattr(self, "_seeds", None) is not None:
            self._seeds.cleanup()
            self._seeds = None


def main(argv: list[str]) -> None:
    """Lay out the samples, then become the emulator (``python -m local_aws``) with them."""
    seed_dir = PROJECT_DIR / ".local" / "emulator-seed"
    shutil.rmtree(seed_dir, ignore_errors=True)
    write_samples(seed_dir)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
    os.execv(sys.executable, [sys.executable, "-m", "local_aws", *emulator_args(seed_dir), *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
