"""The checks job's script: a Glue (PySpark) job that runs a request's checks where the data is.

``--request s3://.../request.json`` names a JSON object whose ``checks`` each say what to read
(data entries of :mod:`glue_cicd.check_requests`), what to do (``validate`` with a suite, or
``diff`` two datasets) and where to write the result (``result_uri``, JSON). The run fails only
on an infrastructure error (Spark, S3): a data verdict, or a refusal the in-process path would
also give, is a result. Deployed by :class:`glue_cicd.hooks.checks_job.ChecksJobHook`, with the
``glue_cicd`` modules it imports in ``--extra-py-files``.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> None:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    from glue_cicd.spark_checks import run_check

    request_uri = getResolvedOptions(argv, ["request"])["request"]
    s3 = boto3.client("s3")
    request = json.loads(_get(s3, request_uri))
    spark = GlueContext(SparkContext.getOrCreate()).spark_session
    for check in request["checks"]:
        result = run_check(spark, check)
        bucket, _, key = check["result_uri"].removeprefix("s3://").partition("/")
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(result, indent=2, default=str).encode())
        print(f"{check['kind']} of {check['dataset']}: {_verdict(result)}; result in {check['result_uri']}")


def _get(s3, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _verdict(result: dict) -> str:
    if "refused" in result:
        return "refused: " + result["refused"]
    if "success" in result:
        return "passed" if result["success"] else f"{result['failed']} failed expectations"
    return f"{result['rows']['candidate']:,} candidate rows compared"


if __name__ == "__main__":
    main(sys.argv)
