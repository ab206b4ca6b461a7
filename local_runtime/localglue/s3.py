"""Local copies of S3 prefixes, for a Spark that cannot read ``s3://`` (no hadoop-aws jars).

:func:`local_path` turns a location into a local path Spark can read: ``s3://bucket/prefix/``
is downloaded once per process into a temporary folder (asking again for the same prefix
returns the same copy; the folders are deleted when the interpreter exits); ``file://`` URIs
and plain paths are returned as local paths without copying.

Only data files are copied (see :func:`is_data_file`). The copy is not refreshed: readers use
it for published data generations, which are never rewritten in place.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

_lock = threading.Lock()
_staged: dict[tuple[str, str], Path] = {}
_root: Path | None = None


def is_data_file(relative: str, size: int) -> bool:
    """Whether a file, by its path relative to a dataset's root, holds data.

    Hadoop, Hive and Spark treat names starting with ``_`` or ``.`` (``_SUCCESS``,
    ``_temporary/``, ``.part-0.crc``) as hidden, at any depth; empty files and folder markers
    (keys ending in ``/`` or ``_$folder$``) hold no rows either.
    """
    parts = [part for part in relative.split("/") if part]
    if size <= 0 or not parts or relative.endswith("/") or relative.endswith("_$folder$"):
        return False
    return not any(part.startswith(("_", ".")) for part in parts)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a", "s3n") or not parsed.netloc:
        raise ValueError(f"not an s3://bucket/prefix URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def local_path(location: str, *, s3=None) -> Path:
    """A local folder (or file) holding what lies at ``location``.

    :param location: ``s3://bucket/prefix/`` (read as a folder: every object under
        ``prefix/``), ``file:///path`` or a local path.
    :param s3: boto3 S3 client for ``s3://`` locations; ``boto3.client("s3")`` if None (which
        honours ``AWS_ENDPOINT_URL``, so it reaches the local emulator during its job runs).
    """
    if location.startswith("file:"):
        return Path(unquote(urlparse(location).path))
    if "://" not in location:
        return Path(location)
    bucket, key = parse_s3_uri(location)
    prefix = key.rstrip("/") + "/" if key.strip("/") else ""
    if s3 is None:
        import boto3

        s3 = boto3.client("s3")
    cache_key = (str(s3.meta.endpoint_url), f"{bucket}/{prefix}")
    with _lock:
        if cache_key not in _staged:
            _staged[cache_key] = _download_prefix(s3, bucket, prefix)
        return _staged[cache_key]


def _download_prefix(s3, bucket: str, prefix: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix="s3-", dir=_staging_root()))
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            relative = obj["Key"][len(prefix) :]
            if not is_data_file(relative, obj.get("Size", 0)):
                continue
            local = target.joinpath(*relative.split("/"))
            local.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(local))
    return target


def _staging_root() -> Path:
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="localglue-"))
        atexit.register(shutil.rmtree, _root, ignore_errors=True)
    return _root
