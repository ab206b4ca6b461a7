"""S3 for a local Spark that cannot reach ``s3://`` (no hadoop-aws jars): listings, local copies, uploads.

- :func:`list_files` lists what lies at a location (``s3://bucket/prefix``, ``file://`` or a
  local path) with sizes and modification times (what job bookmarks compare); ``*``, ``?`` and
  ``[...]`` in the key are globs, as in Spark paths.
- :func:`stage` gives a local folder holding some of those files at their relative paths, for
  Spark to read. Staging the same objects again (same keys, ETags and sizes) reuses the copy, so
  repeated reads are cheap and a read after a write sees the write. Copies are deleted when the
  interpreter exits.
- :func:`upload_tree` puts a folder Spark wrote locally at an ``s3://`` prefix, with Spark's save
  modes; :func:`delete_objects` and :func:`exists` complete what writers need.

Every call takes an optional boto3 S3 client; the default is ``boto3.client("s3")``, which
honours ``AWS_ENDPOINT_URL`` (the local emulator sets it for its job runs) and otherwise
reaches real S3.
"""

from __future__ import annotations

import atexit
import fnmatch
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

SAVE_MODES = ("append", "overwrite", "error", "errorifexists", "ignore")
_GLOB = re.compile(r"[*?\[]")
_lock = threading.Lock()
_staged: dict[tuple, Path] = {}
_root: Path | None = None


@dataclass(frozen=True)
class DataFile:
    """One file at a location: where it is, its path below the location, size and modification time."""

    uri: str
    relative: str
    size: int
    modified: float
    etag: str = ""


def is_s3(location: str) -> bool:
    """Whether ``location`` is an ``s3://`` (or ``s3a://``, ``s3n://``) URI."""
    return location.split("://", 1)[0] in ("s3", "s3a", "s3n") and "://" in location


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
    if not is_s3(uri) or not parsed.netloc:
        raise ValueError(f"not an s3://bucket/prefix URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def client(s3=None):
    """``s3``, or the default boto3 S3 client (see the module docstring)."""
    if s3 is not None:
        return s3
    import boto3

    return boto3.client("s3")


def list_files(location: str, *, s3=None, data_only: bool = True, recurse: bool = True) -> list[DataFile]:
    """The files at ``location``, sorted by path: the object itself, or everything under the prefix.

    :param data_only: leave out what Hadoop tools do not read as data (:func:`is_data_file`).
    :param recurse: include files in sub-folders (``False``: only the folder's own files).
    """
    if not is_s3(location):
        return _list_local(_local(location), data_only, recurse)
    s3 = client(s3)
    bucket, key = parse_s3_uri(location)
    glob = _GLOB.search(key)
    if glob:
        base = key[: key.rfind("/", 0, glob.start()) + 1]
        pattern = key[len(base) :].rstrip("/")
        files = [f for f in _list_s3(s3, bucket, base, base, recurse=True) if _glob_match(f.relative, pattern)]
    else:
        listed = _list_s3(s3, bucket, key, "", recurse=False) if key and not key.endswith("/") else []
        exact = [f for f in listed if f.uri == f"s3://{bucket}/{key}"]
        if exact:
            f = exact[0]
            files = [DataFile(f.uri, key.rsplit("/", 1)[-1], f.size, f.modified, f.etag)]
        else:
            prefix = key.rstrip("/") + "/" if key.strip("/") else ""
            files = _list_s3(s3, bucket, prefix, prefix, recurse=recurse)
    if data_only:
        files = [f for f in files if is_data_file(f.relative, f.size)]
    return sorted(files, key=lambda f: f.relative)


def stage(files: list[DataFile], *, s3=None) -> Path:
    """A local folder holding ``files`` at their relative paths (local files are linked, not copied)."""
    s3 = client(s3) if any(is_s3(f.uri) for f in files) else s3
    endpoint = str(s3.meta.endpoint_url) if s3 is not None else ""
    identity = (endpoint, tuple(sorted((f.uri, f.relative, f.etag, f.size, f.modified) for f in files)))
    with _lock:
        if identity not in _staged:
            _staged[identity] = _download(s3, files)
        return _staged[identity]


def local_path(location: str, *, s3=None) -> Path:
    """A local folder (or file) holding the data files at ``location``; local paths are returned as they are."""
    if not is_s3(location):
        return _local(location)
    return stage(list_files(location, s3=s3), s3=s3)


def exists(location: str, *, s3=None) -> bool:
    """Whether anything (data or not) lies at ``location``."""
    if not is_s3(location):
        return _local(location).exists()
    return bool(list_files(location, s3=s3, data_only=False))


def delete_objects(files: list[DataFile], *, s3=None) -> None:
    """Delete ``files`` (S3 objects, in batches of 1000, or local files)."""
    remote = [f for f in files if is_s3(f.uri)]
    for f in files:
        if not is_s3(f.uri):
            Path(f.uri).unlink(missing_ok=True)
    if not remote:
        return
    s3 = client(s3)
    by_bucket: dict[str, list[str]] = {}
    for f in remote:
        bucket, key = parse_s3_uri(f.uri)
        by_bucket.setdefault(bucket, []).append(key)
    for bucket, keys in by_bucket.items():
        for start in range(0, len(keys), 1000):
            objects = [{"Key": key} for key in keys[start : start + 1000]]
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            if response.get("Errors"):
                first = response["Errors"][0]
                where = f"s3://{bucket}/{first.get('Key')}"
                raise OSError(f"cannot delete {where}: {first.get('Code')} {first.get('Message')}")


def upload_tree(local: Path, uri: str, *, mode: str = "append", s3=None, replace: list[str] | None = None) -> bool:
    """Put the files Spark wrote under ``local`` at the ``s3://`` prefix ``uri``, with a Spark save mode.

    ``append`` adds the files; ``overwrite`` first deletes what is at the prefix, or only the
    sub-folders listed in ``replace`` (a dynamic partition overwrite); ``error``/``errorifexists``
    refuses a prefix that holds anything; ``ignore`` leaves such a prefix alone. Returns whether
    anything was written.

    :raises FileExistsError: mode ``error``/``errorifexists`` and the prefix is not empty.
    """
    mode = (mode or "errorifexists").lower()
    if mode not in SAVE_MODES:
        raise ValueError(f"unknown save mode {mode!r}; allowed: {', '.join(SAVE_MODES)}")
    s3 = client(s3)
    bucket, key = parse_s3_uri(uri)
    prefix = key.rstrip("/") + "/" if key.strip("/") else ""
    present = _list_s3(s3, bucket, prefix, prefix, recurse=True)
    if present and mode in ("error", "errorifexists"):
        raise FileExistsError(f"path {uri} already exists (save mode {mode!r}; use 'overwrite' or 'append')")
    if present and mode == "ignore":
        return False
    if mode == "overwrite":
        doomed = present
        if replace is not None:
            folders = tuple(folder.rstrip("/") + "/" for folder in replace)
            doomed = [f for f in present if f.relative.startswith(folders)]
        delete_objects(doomed, s3=s3)
    for path in sorted(local.rglob("*")):
        relative = path.relative_to(local).as_posix()
        if path.is_file() and not path.name.startswith(".") and "_temporary" not in relative.split("/"):
            s3.upload_file(str(path), bucket, prefix + relative)
    return True


def _local(location: str) -> Path:
    if location.startswith("file:"):
        return Path(unquote(urlparse(location).path))
    return Path(location)


def _list_local(root: Path, data_only: bool, recurse: bool) -> list[DataFile]:
    if root.is_file():
        stat = root.stat()
        return [DataFile(str(root), root.name, stat.st_size, stat.st_mtime)]
    if not root.is_dir():
        return []
    paths = root.rglob("*") if recurse else root.glob("*")
    files = []
    for path in paths:
        if path.is_file():
            stat = path.stat()
            relative = path.relative_to(root).as_posix()
            if not data_only or is_data_file(relative, stat.st_size):
                files.append(DataFile(str(path), relative, stat.st_size, stat.st_mtime))
    return sorted(files, key=lambda f: f.relative)


def _list_s3(s3, bucket: str, prefix: str, base: str, *, recurse: bool) -> list[DataFile]:
    files = []
    kwargs = {} if recurse else {"Delimiter": "/"}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, **kwargs):
        for obj in page.get("Contents", []):
            files.append(
                DataFile(
                    f"s3://{bucket}/{obj['Key']}",
                    obj["Key"][len(base) :],
                    obj.get("Size", 0),
                    obj["LastModified"].timestamp(),
                    obj.get("ETag", "").strip('"'),
                )
            )
    return files


def _glob_match(relative: str, pattern: str) -> bool:
    """Spark's path globs: ``*`` does not cross ``/``; a match may be a folder holding the file."""
    globs, parts = pattern.split("/"), relative.split("/")
    return len(parts) >= len(globs) and all(fnmatch.fnmatchcase(n, g) for n, g in zip(parts, globs, strict=False))


def _download(s3, files: list[DataFile]) -> Path:
    target = Path(tempfile.mkdtemp(prefix="s3-", dir=_staging_root()))
    for f in files:
        local = target.joinpath(*f.relative.split("/"))
        local.parent.mkdir(parents=True, exist_ok=True)
        if is_s3(f.uri):
            bucket, key = parse_s3_uri(f.uri)
            s3.download_file(bucket, key, str(local))
        else:
            try:
                os.link(f.uri, local)
            except OSError:
                shutil.copyfile(f.uri, local)
    return target


def _staging_root() -> Path:
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="localglue-"))
        atexit.register(shutil.rmtree, _root, ignore_errors=True)
    return _root
