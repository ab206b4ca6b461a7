"""Load the emulator with what a test or a demo needs: a CloudFormation stack and seed objects.

The emulator knows nothing of the project using it: the template and the seed folder are given
on its command line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import boto3

log = logging.getLogger(__name__)


class BootstrapError(RuntimeError):
    """The template or the seed objects could not be loaded."""


def client(service: str, endpoint_url: str, region: str):
    """A boto3 client for the emulator."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_stack(endpoint_url: str, region: str, template: Path, name: str) -> dict[str, str]:
    """Create the CloudFormation stack ``name`` from ``template``; return its outputs."""
    try:
        body = template.read_text()
    except OSError as exc:
        raise BootstrapError(f"{template}: cannot read the CloudFormation template: {exc.strerror}") from exc
    cloudformation = client("cloudformation", endpoint_url, region)
    cloudformation.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"])
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise BootstrapError(f"{template}: stack {name} ended {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    log.info("created stack %s from %s: %s", name, template, outputs)
    return outputs


def seed_objects(endpoint_url: str, region: str, folder: Path) -> list[str]:
    """Upload every file under ``folder`` as an object: ``<folder>/<bucket>/<key>``.

    The buckets must exist (the stack creates them). Returns the URIs written.
    """
    if not folder.is_dir():
        raise BootstrapError(f"{folder}: the seed folder does not exist (expected <folder>/<bucket>/<key> files)")
    s3 = client("s3", endpoint_url, region)
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    written = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        bucket, _, key = path.relative_to(folder).as_posix().partition("/")
        if not key:
            raise BootstrapError(f"{path}: a seed file must lie in a bucket's folder (<folder>/<bucket>/<key>)")
        if bucket not in buckets:
            raise BootstrapError(
                f"{path}: bucket {bucket!r} does not exist; known buckets: {', '.join(sorted(buckets))}"
            )
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        written.append(f"s3://{bucket}/{key}")
    log.info("seeded %d objects from %s", len(written), folder)
    return written
