"""boto3 clients for an environment, through its Airflow AWS connection.

The connection decides where calls go: real AWS, or the local emulator when its extra holds
``endpoint_url``. No code path asks which one it is.
"""

from __future__ import annotations

from functools import cache

from glue_cicd.spec import Environment


@cache
def _client(conn_id: str, region: str, service: str):
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    return AwsBaseHook(aws_conn_id=conn_id, client_type=service, region_name=region).conn


def client(env: Environment, service: str):
    """A boto3 client for ``service`` in ``env``'s account and region."""
    return _client(env.aws_conn_id, env.region, service)


def account_id(env: Environment) -> str:
    return client(env, "sts").get_caller_identity()["Account"]
