"""``python -m local_aws``: run the emulator until interrupted."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from local_aws.bootstrap import BootstrapError, create_stack, seed_objects
from local_aws.server import REGION, Emulator, EmulatorError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local_aws",
        description="Local AWS emulator: S3, IAM, STS, DynamoDB, SNS, SQS, CloudWatch Logs, "
        "CloudFormation, Secrets Manager and Glue, whose job runs really execute on local PySpark.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on; 0 picks a free one (default 5000)")
    parser.add_argument(
        "--seconds-per-minute",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="real seconds in one minute of a Glue job Timeout (default 60)",
    )
    parser.add_argument("--workdir", type=Path, help="where job runs keep their files (default: a temporary folder)")
    parser.add_argument(
        "--template", type=Path, help="a CloudFormation template to create as a stack once the emulator is up"
    )
    parser.add_argument("--stack-name", default="local", help="the stack's name (default: local)")
    parser.add_argument(
        "--seed-dir", type=Path, help="upload each file <seed-dir>/<bucket>/<key> as an object (after the stack)"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    if args.seconds_per_minute <= 0:
        parser.error(f"--seconds-per-minute must be positive, got {args.seconds_per_minute}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    emulator = Emulator(
        host=args.host, port=args.port, seconds_per_minute=args.seconds_per_minute, workdir=args.workdir
    )
    try:
        emulator.start()
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.template:
            create_stack(emulator.endpoint_url, REGION, args.template, args.stack_name)
        if args.seed_dir:
            seed_objects(emulator.endpoint_url, REGION, args.seed_dir)
    except BootstrapError as exc:
        print(f"error: bootstrap failed: {exc}", file=sys.stderr)
        emulator.stop()
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"AWS emulator ready on {emulator.endpoint_url}", flush=True)
    stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
