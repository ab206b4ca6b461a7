"""The artifact store (S3): publish a built package once, check it before promotion, keep results."""

from __future__ import annotations

import json
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from glue_cicd.build import Artifact, BuildError, Package, artifact_sha256, manifest


class ArtifactStoreHook(AwsBaseHook):
    """Artifacts under ``s3://<bucket>/<job>/<version>/``, and JSON results and manifests beside data.

    Takes the :class:`AwsBaseHook` arguments (``aws_conn_id``, ``region_name``).
    """

    def __init__(self, *args, **kwargs):
        kwargs["client_type"] = "s3"
        super().__init__(*args, **kwargs)

    def publish(self, package: Package, bucket: str, git: str | None = None) -> tuple[Artifact, bool]:
        """Upload the package unless this version exists; return the artifact and whether it was new.

        :raises BuildError: the version exists with other bytes (artifacts are immutable).
        """
        prefix = f"{package.job}/{package.version}/"
        existing = self.read_manifest(bucket, prefix)
        if existing is not None:
            if existing.get("sha256") != package.sha256:
                raise BuildError(
                    f"s3://{bucket}/{prefix} already holds other bytes (sha256 {existing.get('sha256')}, "
                    f"built now {package.sha256}); artifacts are immutable, nothing was uploaded"
                )
            return Artifact(package.job, package.version, package.sha256, bucket, existing.get("git_sha")), False
        self.conn.put_object(Bucket=bucket, Key=prefix + "job.py", Body=package.script)
        self.conn.put_object(Bucket=bucket, Key=prefix + "libs.zip", Body=package.libs)
        # The manifest goes last: its presence marks a complete artifact.
        body = json.dumps(manifest(package, bucket, git), indent=2, sort_keys=True).encode()
        self.conn.put_object(Bucket=bucket, Key=prefix + "manifest.json", Body=body, ContentType="application/json")
        return Artifact(package.job, package.version, package.sha256, bucket, git), True

    def read_manifest(self, bucket: str, prefix: str) -> dict | None:
        return self.read_json(bucket, prefix + "manifest.json")

    def read_json(self, bucket: str, key: str) -> Any:
        """The JSON object at ``key``; None if there is none."""
        try:
            return json.loads(self.conn.get_object(Bucket=bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def get_json(self, uri: str) -> Any:
        """The JSON object at the ``s3://`` ``uri``; it must exist."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return json.loads(self.conn.get_object(Bucket=bucket, Key=key)["Body"].read())

    def has_objects(self, uri: str) -> bool:
        """Whether anything is stored under the ``s3://`` prefix ``uri``."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return bool(self.conn.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("KeyCount"))

    def verify(self, artifact: Artifact) -> None:
        """Check the objects in S3 still hash to the artifact's sha256 (before promoting them)."""
        try:
            script = self.conn.get_object(Bucket=artifact.bucket, Key=artifact.prefix + "job.py")["Body"].read()
            libs = self.conn.get_object(Bucket=artifact.bucket, Key=artifact.prefix + "libs.zip")["Body"].read()
        except ClientError as exc:
            raise BuildError(f"artifact {artifact.uri} cannot be read: {exc.response['Error']['Code']}") from exc
        actual = artifact_sha256(script, libs)
        if actual != artifact.sha256:
            raise BuildError(
                f"artifact {artifact.uri} was modified after it was built: sha256 {actual}, expected {artifact.sha256}"
            )

    def delete_prefix(self, uri: str) -> int:
        """Delete every object under the ``s3://`` prefix ``uri``; return how many."""
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        count = 0
        for page in self.conn.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                self.conn.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                count += len(keys)
        return count

    def put_bytes(self, bucket: str, key: str, body: bytes) -> str:
        """Store ``body``; return its ``s3://`` URI."""
        self.conn.put_object(Bucket=bucket, Key=key, Body=body)
        return f"s3://{bucket}/{key}"

    def put_json(self, bucket: str, key: str, value: Any) -> str:
        """Store ``value`` as indented JSON; return its ``s3://`` URI."""
        return self.put_bytes(bucket, key, json.dumps(value, indent=2, default=str).encode())
