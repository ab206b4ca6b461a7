"""Release artifacts of one file (a Lambda package, a state machine definition), stored once
under the hash of their content: the same sources give the same version, and a version never
holds other bytes."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from glue_cicd.build import BuildError


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class ContentArtifact:
    """A built artifact in the artifact store: ``s3://<bucket>/<KIND>/<name>/<version>/<FILE>``."""

    KIND: ClassVar[str] = ""
    FILE: ClassVar[str] = ""
    name: str
    version: str
    sha256: str
    bucket: str
    git_sha: str | None = None

    @classmethod
    def of(cls, name: str, content: bytes, bucket: str, git_sha: str | None) -> ContentArtifact:
        sha = sha256_of(content)
        return cls(name, sha[:12], sha, bucket, git_sha)

    @property
    def prefix(self) -> str:
        return f"{self.KIND}/{self.name}/{self.version}/"

    @property
    def key(self) -> str:
        return self.prefix + self.FILE

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "uri": self.uri}

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        return cls(data["name"], data["version"], data["sha256"], data["bucket"], data.get("git_sha"))

    def store(self, store, content: bytes, **manifest: Any) -> bool:
        """Upload ``content`` and its manifest unless this version exists (True: uploaded).
        Other bytes under an existing version are refused, nothing uploaded."""
        existing = store.read_json(self.bucket, self.prefix + "manifest.json")
        if existing is not None and existing.get("sha256") != self.sha256:
            raise BuildError(
                f"{self.uri} already holds other bytes (sha256 {existing.get('sha256')}); "
                "artifacts are immutable, nothing was uploaded"
            )
        if existing is None:
            store.put_bytes(self.bucket, self.key, content)
            # Last: a manifest marks a complete artifact.
            store.put_json(self.bucket, self.prefix + "manifest.json", {**self.to_dict(), **manifest})
        return existing is None

    def load(self, store, environment: str) -> bytes:
        """The stored content, refused if it no longer hashes to this artifact."""
        content = store.conn.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        if sha256_of(content) != self.sha256:
            raise BuildError(f"{self.uri} was modified after it was built: {environment} unchanged")
        return content
