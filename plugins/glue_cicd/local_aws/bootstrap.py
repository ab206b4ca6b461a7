"""Create on the emulator the resources ``infrastructure/`` describes."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import boto3

from glue_cicd.paths import CLOUDFORMATION_TEMPLATE

log = logging.getLogger(__name__)

STACK_NAME = "glue-cicd"


class BootstrapError(RuntimeError):
    """The infrastructure template could not be created."""


def client(service: str, endpoint_url: str, region: str):
    """A boto3 client for the emulator."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_stack(endpoint_url: str, region: str, template: Path = CLOUDFORMATION_TEMPLATE) -> dict[str, str]:
    """Create the CloudFormation stack from ``template``; return its outputs."""
    cloudformation = client("cloudformation", endpoint_url, region)
    try:
        body = template.read_text()
    except OSError as exc:
        raise BootstrapError(f"{template}: cannot read the infrastructure template: {exc.strerror}") from exc
    cloudformation.create_stack(StackName=STACK_NAME, TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"])
    stack = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise BootstrapError(
            f"{template}: stack {STACK_NAME} ended {stack['StackStatus']}: {stack.get('StackStatusReason')}"
        )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    log.info("created stack %s from %s: %s", STACK_NAME, template, outputs)
    return outputs


def seed_samples(endpoint_url: str, region: str) -> list[str]:
    """Upload each job's sample inputs (``glue_jobs/<job>/sample_data.py``) to every environment.

    Inputs produced by another job (``from:``) are not seeded. Invalid specs are skipped with a
    warning: the emulator still starts, and the spec's own error shows where it is loaded.
    Returns the URIs written.
    """
    from glue_cicd.spec import load_environments, load_jobs

    environments = load_environments()
    specs, errors = load_jobs(environments=environments)
    for error in errors.values():
        log.warning("not seeding: %s", error)
    s3 = client("s3", endpoint_url, region)
    written = []
    for spec in specs.values():
        inputs = [d for d in spec.datasets.inputs if d.path is not None]
        if not inputs:
            continue
        try:
            samples = importlib.import_module(f"{spec.name}.sample_data")
        except ModuleNotFoundError:
            log.info("%s has no sample_data module: nothing to seed", spec.name)
            continue
        for dataset in inputs:
            files = samples.sample_files(dataset.name)
            for env in environments.environments.values():
                uri = dataset.path_in(env)
                bucket, _, prefix = uri[5:].partition("/")
                for name, body in files.items():
                    s3.put_object(Bucket=bucket, Key=prefix.rstrip("/") + "/" + name, Body=body)
                written.append(uri)
    log.info("seeded sample inputs: %s", ", ".join(written) or "none")
    return written


def bootstrap(endpoint_url: str, region: str) -> None:
    """Create the infrastructure stack, then seed the jobs' sample inputs."""
    create_stack(endpoint_url, region)
    seed_samples(endpoint_url, region)
