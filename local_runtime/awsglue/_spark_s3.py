"""``s3://`` paths for Spark's own readers and writers, which have no S3 filesystem here.

:func:`install` (called by every ``GlueContext``) wraps ``DataFrameReader`` and
``DataFrameWriter`` so that a Glue script's ``spark.read.parquet("s3://...")`` or
``df.write.mode("overwrite").parquet("s3://...")`` works with any URI it builds:

- **reads** stage the objects at the path (an object, a prefix, or a glob) to a local folder
  (:func:`localglue.s3.stage`) and read that; a prefix keeps its folder layout, so Spark's
  partition discovery (``key=value/`` folders) works as on S3. An empty path is Spark's
  "Path does not exist" error, naming the URI.
- **writes** go to a fresh local folder, which is then put at the prefix with the writer's save
  mode (``errorifexists`` by default, ``append``, ``overwrite``, ``ignore``; an ``overwrite``
  under ``spark.sql.sources.partitionOverwriteMode=dynamic`` replaces only the partitions
  written). The upload happens when the write returns, so a later read sees it.

Other paths pass through untouched. S3 is reached with ``boto3.client("s3")``: the emulator
(through ``AWS_ENDPOINT_URL``) or real S3.
"""

from __future__ import annotations

import functools
import inspect
import shutil
import tempfile
from pathlib import Path

from localglue.s3 import is_s3, list_files, stage, upload_tree

_READERS = ("load", "csv", "json", "parquet", "orc", "text")
_WRITERS = ("save", "csv", "json", "parquet", "orc", "text")
_installed = False


def install() -> None:
    """Wrap Spark's readers and writers once per process (see the module docstring)."""
    global _installed
    if _installed:
        return
    from pyspark.sql.readwriter import DataFrameReader, DataFrameWriter

    for name in _READERS:
        setattr(DataFrameReader, name, _reading(getattr(DataFrameReader, name)))
    for name in _WRITERS:
        setattr(DataFrameWriter, name, _writing(getattr(DataFrameWriter, name)))
    DataFrameWriter.mode = _remembering_mode(DataFrameWriter.mode)
    _installed = True


def local_for_read(path):
    """``path`` (a string or a list of them) with each ``s3://`` URI replaced by a local copy."""
    if isinstance(path, list | tuple):
        return [local_for_read(p) for p in path]
    if not isinstance(path, str) or not is_s3(path):
        return path
    files = list_files(path)
    if not files:
        raise FileNotFoundError(f"[PATH_NOT_FOUND] Path does not exist: {path} (no data files there)")
    root = stage(files)
    key = path.split("://", 1)[1].partition("/")[2]
    if any(char in key for char in "*?["):
        return str(root / key[key.rfind("/", 0, min(key.find(c) for c in "*?[" if c in key)) + 1 :])
    if len(files) == 1 and files[0].uri == path:
        return str(root / files[0].relative)
    return str(root)


def _reading(method):
    signature = inspect.signature(method)
    varargs = any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values())

    @functools.wraps(method)
    def read(self, *args, **kwargs):
        if varargs:
            args = tuple(local_for_read(a) for a in args)
        elif args:
            args = (local_for_read(args[0]), *args[1:])
        for key in ("path", "paths"):
            if key in kwargs:
                kwargs[key] = local_for_read(kwargs[key])
        return method(self, *args, **kwargs)

    return read


def _writing(method):
    signature = inspect.signature(method)

    @functools.wraps(method)
    def write(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        path = bound.arguments.get("path")
        if not (isinstance(path, str) and is_s3(path)):
            return method(self, *args, **kwargs)
        mode = bound.arguments.get("mode") or getattr(self, "_localglue_mode", None) or "errorifexists"
        local = Path(tempfile.mkdtemp(prefix="spark-write-"))
        try:
            bound.arguments["path"] = str(local / "out")
            if "mode" in signature.parameters:
                bound.arguments["mode"] = "overwrite"
            else:
                self._jwrite = self._jwrite.mode("overwrite")
            result = method(*bound.args, **bound.kwargs)
            upload_tree(local / "out", path, mode=mode, replace=_dynamic_partitions(self, mode, local / "out"))
            return result
        finally:
            shutil.rmtree(local, ignore_errors=True)

    return write


def _remembering_mode(method):
    @functools.wraps(method)
    def mode(self, saveMode):
        self._localglue_mode = saveMode
        return method(self, saveMode)

    return mode


def _dynamic_partitions(writer, mode: str, written: Path) -> list[str] | None:
    """The partition folders a dynamic ``overwrite`` replaces; None to replace the whole prefix."""
    if (mode or "").lower() != "overwrite":
        return None
    conf = writer._df.sparkSession.conf.get("spark.sql.sources.partitionOverwriteMode", "static")
    if conf.lower() != "dynamic":
        return None
    folders = {Path(f.relative).parent.as_posix() for f in list_files(str(written))}
    return sorted(folder for folder in folders if folder != ".") or None
