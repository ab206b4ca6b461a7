"""The local AWS emulator loaded with this project: the stack of ``infrastructure/cloudformation.yaml``
and each job's sample inputs (``glue_jobs/<job>/tests/sample_data.py``) in every environment of
``infrastructure/environments.local.yaml``.

``python -m dev.emulator [--aws-connection-secret NAME [--aws-connection-endpoint URL]] [emulator
options]`` (``make emulator``, docker-compose.yaml) runs it in the foreground, optionally with an
Airflow AWS connection to it stored in its Secrets Manager (for Airflow's Secrets Manager backend);
:class:`ProjectEmulator` runs it as a child process for the demo, ``make up`` and the tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import tempfile
import threading
from pathlib import Path

from dev import LOCAL_ENVIRONMENTS, PROJECT_DIR
from local_aws.bootstrap import client
from local_aws.process import READY, EmulatorProcess

log = logging.getLogger(__name__)

TEMPLATE = PROJECT_DIR / "infrastructure" / "cloudformation.yaml"
STACK_NAME = "glue-cicd"
REGION = "us-east-1"  # the emulator's (local_aws.server.REGION)


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

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 15) -> None:
        super().stop(timeout)
        if getattr(self, "_seeds", None) is not None:
            self._seeds.cleanup()
            self._seeds = None


def aws_connection(endpoint_url: str) -> dict:
    """The Airflow AWS connection to the emulator at ``endpoint_url`` (its dummy credentials)."""
    extra = {"endpoint_url": endpoint_url, "region_name": REGION}
    return {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}


def store_connection_secret(emulator_url: str, name: str, connection_endpoint: str) -> None:
    """Store :func:`aws_connection` to ``connection_endpoint`` as the secret ``name`` of the emulator
    at ``emulator_url``, replacing any earlier value."""
    secrets = client("secretsmanager", emulator_url, REGION)
    value = json.dumps(aws_connection(connection_endpoint))
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=value)
    log.info("stored the AWS connection to %s as secret %s", connection_endpoint, name)


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """This module's options, and the rest: ``python -m local_aws``'s (checked here)."""
    parser = argparse.ArgumentParser(
        prog="python -m dev.emulator",
        allow_abbrev=False,
        description="The local AWS emulator loaded with this project's stack and sample inputs.",
        epilog="Any other option is python -m local_aws's (see python -m local_aws --help).",
    )
    parser.add_argument(
        "--aws-connection-secret",
        metavar="NAME",
        help="store an Airflow AWS connection to the emulator as this Secrets Manager secret, "
        "e.g. airflow/connections/aws_default",
    )
    parser.add_argument(
        "--aws-connection-endpoint",
        metavar="URL",
        help="the emulator's address in that connection, as Airflow reaches it (default: its own)",
    )
    args, rest = parser.parse_known_args(argv)
    if args.aws_connection_endpoint and not args.aws_connection_secret:
        parser.error("--aws-connection-endpoint needs --aws-connection-secret")
    return args, rest


def main(argv: list[str]) -> int:
    """Run the emulator with the samples (and the connection secret, if asked) until SIGINT or SIGTERM,
    or until it exits."""
    from local_aws.__main__ import parse_args as parse_emulator_args

    args, emulator_argv = parse_args(argv)
    port = parse_emulator_args(emulator_argv).port
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        emulator = ProjectEmulator(port=port, args=emulator_argv).start()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.aws_connection_secret:
            endpoint = args.aws_connection_endpoint or emulator.endpoint_url
            store_connection_secret(emulator.endpoint_url, args.aws_connection_secret, endpoint)
        print(f"{READY}{emulator.endpoint_url}", flush=True)
        while not stop.wait(1):
            if not emulator.running():
                print("error: the emulator exited", file=sys.stderr)
                return 1
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
