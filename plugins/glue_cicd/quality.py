"""The quality gate's engine: Great Expectations suites (``expectations/<suite>.json``) run on S3 datasets.

Great Expectations is imported inside functions only: its import takes seconds.

A dataset is every object under an ``s3://bucket/prefix/`` except names starting with ``_`` or
``.`` (``_SUCCESS``, ``_temporary/``, ``.crc`` files) and empty objects. It is read with pyarrow into
pandas, so suites declare these pandas types: strings ``str``; doubles ``float64``; integers
``int32`` / ``int64``; dates ``datetime64`` (read as ``datetime64[ms]``); UTC timestamps
``Timestamp`` (read as ``datetime64[us, UTC]``). Hive partition folders (``name=value``) below
the prefix become columns, typed by their values: all ISO dates -> date, all integers -> int64,
otherwise string.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import math
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from glue_cicd.errors import Refusal
from glue_cicd.paths import EXPECTATIONS_DIR

# GX logs one INFO line per function of its public API it registers (hundreds, on first import).
logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)

FORMATS = ("csv", "json", "parquet")
SAMPLE_SIZE = 5
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
MAX_DOWNLOADS = 16
SUITE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
SUITE_KEYS = {"name", "expectations", "meta", "notes", "id", "suite_parameters"}
EXPECTATION_KEYS = {"type", "kwargs", "meta", "notes", "description", "severity", "id", "rendered_content"}
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER = re.compile(r"^-?\d{1,18}$")


class QualityError(Refusal):
    """A suite file is missing or invalid; the message names the file and what is wrong."""


class DatasetUnavailableError(Refusal):
    """No data can be read at a dataset's URI (no data files, no bucket, unreadable file)."""


@dataclass
class QualityResult:
    """The outcome of one suite on one dataset; ``failures`` holds JSON-safe details."""

    suite: str
    dataset: str
    success: bool
    evaluated: int
    passed: int
    failed: int
    row_count: int
    failures: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """A few lines for a task log: the verdict, then each failed expectation with sample values."""
        verdict = "PASSED" if self.success else "FAILED"
        lines = [
            f"Suite {self.suite} on {self.dataset} ({self.row_count:,} rows): {verdict}, "
            f"{self.passed} of {self.evaluated} expectations passed, {self.failed} failed"
        ]
        for failure in self.failures:
            lines.append("  FAILED " + describe_failure(failure))
        return "\n".join(lines)


def describe_failure(failure: dict[str, Any]) -> str:
    """One failed expectation in words: its column, unexpected count, sample values and kwargs."""
    column = failure.get("column")
    text = failure["expectation"]
    if column:
        text += " on " + (", ".join(column) if isinstance(column, list) else column)
    if failure.get("error"):
        return f"{text}: could not be evaluated: {failure['error']}"
    if failure.get("unexpected_count") is not None:
        text += f": {failure['unexpected_count']:,} unexpected ({failure['unexpected_percent']:.2f}%)"
        if failure.get("sample"):
            text += ", e.g. " + ", ".join(json.dumps(value) for value in failure["sample"])
    if "observed_value" in failure:
        text += f": observed {json.dumps(failure['observed_value'])}"
    return text + f" (expected {json.dumps(failure['kwargs'])})"


# -- suites ------------------------------------------------------------------------------------


def known_suites(expectations_dir: Path = EXPECTATIONS_DIR) -> list[str]:
    """The names of the suites in ``expectations_dir``."""
    return sorted(p.stem for p in Path(expectations_dir).glob("*.json"))


def load_suite(name: str, expectations_dir: Path = EXPECTATIONS_DIR):
    """The suite ``<expectations_dir>/<name>.json`` as a GX ``ExpectationSuite``, checked in full.

    Every problem (unknown keys, unknown expectation types, bad kwargs) is reported in one
    :class:`QualityError`; GX itself would silently drop an invalid expectation.
    """
    path = Path(expectations_dir) / f"{name}.json"
    if not SUITE_NAME.match(name) or not path.is_file():
        known = ", ".join(known_suites(expectations_dir)) or "none"
        raise QualityError(f"{path}: no such suite {name!r}; known suites in {expectations_dir}: {known}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise QualityError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise QualityError(f"{path}: expected a JSON object with 'name' and 'expectations', got {type(data).__name__}")
    allowed = ", ".join(sorted(SUITE_KEYS))
    problems = [f"unknown key {key!r} (allowed: {allowed})" for key in sorted(set(data) - SUITE_KEYS)]
    if data.get("name") != name:
        problems.append(f"'name' must be the file's name {name!r}, got {data.get('name')!r}")
    items = data.get("expectations")
    if not isinstance(items, list) or not items:
        problems.append("'expectations' must be a non-empty list of expectations")
        items = []
    expectations = []
    for i, item in enumerate(items):
        built = _build_expectation(item, f"expectations[{i}]", problems)
        if built is not None:
            expectations.append(built)
    if problems:
        raise QualityError(f"{path}: " + "; ".join(problems))
    import great_expectations as gx

    return gx.ExpectationSuite(
        name=name,
        expectations=expectations,
        meta=data.get("meta"),
        notes=data.get("notes"),
        suite_parameters=data.get("suite_parameters"),
    )


def suite_json(name: str, expectations_dir: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    """Suite ``name``'s file as JSON, once :func:`load_suite` has checked it (for the checks job)."""
    load_suite(name, expectations_dir)
    return json.loads((Path(expectations_dir) / f"{name}.json").read_text())


def _build_expectation(item: Any, where: str, problems: list[str]):
    """The GX Expectation for one suite entry, or None after adding its problems to ``problems``."""
    from great_expectations.compatibility.pydantic import ValidationError
    from great_expectations.exceptions import ExpectationNotFoundError, InvalidExpectationConfigurationError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.registry import list_registered_expectation_implementations

    if not isinstance(item, dict) or not isinstance(item.get("type"), str) or not isinstance(item.get("kwargs"), dict):
        problems.append(f"{where}: expected an object with 'type' (a string) and 'kwargs' (an object)")
        return None
    kind = item["type"]
    unknown = sorted(set(item) - EXPECTATION_KEYS)
    if unknown:
        problems.append(f"{where} ({kind}): unknown key(s) {', '.join(unknown)}")
        return None
    try:
        return ExpectationConfiguration(**item).to_domain_obj()
    except ExpectationNotFoundError:
        import difflib

        close = difflib.get_close_matches(kind, list_registered_expectation_implementations(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"{where}: unknown expectation type {kind!r}{hint}")
    except ValidationError as exc:
        details = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        problems.append(f"{where} ({kind}): invalid kwargs: {details}")
    except InvalidExpectationConfigurationError as exc:
        problems.append(f"{where} ({kind}): {exc}")
    return None


# -- reading datasets -------------------------------------------------------------------------


def read_dataset(s3_client, uri: str, fmt: str):
    """Every data file under the ``s3://bucket/prefix/`` ``uri``, in ``fmt``, as one pandas DataFrame."""
    return read_locations(s3_client, [(uri, {})], fmt).to_pandas(date_as_object=False)


def read_locations(s3_client, locations: list[tuple[str, dict[str, str]]], fmt: str):
    """The data files under each ``(uri, partition values)`` location, as one Arrow table.

    Partition values come from the catalog (the values given) and from Hive folders
    (``name=value``) below each location. Objects are fetched and parsed in parallel; see the
    module docstring for what counts as data and how columns are typed.
    """
    import pyarrow as pa

    if fmt not in FORMATS:
        raise ValueError(f"unknown dataset format {fmt!r}; allowed: {', '.join(FORMATS)}")
    listing = list_locations(s3_client, locations)
    partitions, types = listing.values, listing.types()

    def read(item: tuple[str, str]):
        bucket, key = item
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            table = _parse(body, fmt)
        except pa.ArrowException as exc:
            raise DatasetUnavailableError(f"cannot read s3://{bucket}/{key} as {fmt}: {exc}") from exc
        for name, value in partitions[item].items():
            if name not in table.column_names:
                constant = pa.scalar(_typed(value, types[name]), types[name])
                table = table.append_column(name, pa.repeat(constant, len(table)))
        return table

    with ThreadPoolExecutor(max_workers=min(MAX_DOWNLOADS, len(partitions))) as pool:
        tables = list(pool.map(read, sorted(partitions)))
    return pa.concat_tables(tables, promote_options="permissive")


@dataclass
class Listing:
    """The data files of some locations: each file's partition values, and its size in bytes."""

    values: dict[tuple[str, str], dict[str, str | None]]
    sizes: dict[tuple[str, str], int]

    def types(self) -> dict:
        return _partition_types(self.values.values())


def list_locations(s3_client, locations: list[tuple[str, dict[str, str]]]) -> Listing:
    """The data files under each ``(uri, partition values)`` location (see :func:`read_locations`).

    :raises DatasetUnavailableError: there are none.
    """
    listing = Listing({}, {})
    for uri, values in locations:
        bucket, prefix = _parse_uri(uri)
        found = data_objects(s3_client, bucket, prefix, uri)
        if not found and len(locations) == 1:
            raise DatasetUnavailableError(
                f"no data files under {uri} (objects named _* or .* and empty objects are not data)"
            )
        for key, size in found:
            listing.values[(bucket, key)] = {**values, **_partition_values(key[len(prefix) :])}
            listing.sizes[(bucket, key)] = size
    if not listing.values:
        raise DatasetUnavailableError(
            f"no data files under any of the {len(locations)} locations, e.g. {locations[0][0] if locations else '-'}"
        )
    return listing


def _parse_uri(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket:
        raise ValueError(f"a dataset URI must look like s3://bucket/prefix/, got {uri!r}")
    return bucket, (prefix.rstrip("/") + "/" if prefix.strip("/") else "")


def _data_keys(s3_client, bucket: str, prefix: str, uri: str) -> list[str]:
    return [key for key, _ in data_objects(s3_client, bucket, prefix, uri)]


def data_objects(s3_client, bucket: str, prefix: str, uri: str) -> list[tuple[str, int]]:
    """The data files' keys and sizes under ``prefix`` (see the module docstring), sorted by key."""
    found = []
    try:
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                parts = obj["Key"][len(prefix) :].split("/")
                if obj["Size"] and not any(part.startswith(("_", ".")) or not part for part in parts):
                    found.append((obj["Key"], obj["Size"]))
    except s3_client.exceptions.NoSuchBucket as exc:
        raise DatasetUnavailableError(f"no data files under {uri}: bucket {bucket!r} does not exist") from exc
    return sorted(found)


def _partition_values(relative_key: str) -> dict[str, str | None]:
    values = {}
    for part in relative_key.split("/")[:-1]:
        name, sep, value = part.partition("=")
        if sep:
            value = unquote(value)
            values[unquote(name)] = None if value == HIVE_NULL else value
    return values


def _partition_types(all_values: Iterable[dict[str, str | None]]) -> dict:
    """An Arrow type per partition column, from all its values (see the module docstring)."""
    import pyarrow as pa

    seen: dict[str, set[str]] = {}
    for values in all_values:
        for name, value in values.items():
            seen.setdefault(name, set()).update([value] if value is not None else [])
    types = {}
    for name, values in seen.items():
        if values and all(_ISO_DATE.match(v) for v in values):
            types[name] = pa.date32()
        elif values and all(_INTEGER.match(v) for v in values):
            types[name] = pa.int64()
        else:
            types[name] = pa.string()
    return types


def _typed(value: str | None, arrow_type) -> Any:
    import pyarrow as pa

    if value is None or arrow_type == pa.string():
        return value
    return date.fromisoformat(value) if arrow_type == pa.date32() else int(value)


def _parse(body: bytes, fmt: str):
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(body))
    if fmt == "csv":
        import pyarrow.csv as pcsv

        return pcsv.read_csv(io.BytesIO(body))
    import pyarrow.json as pjson

    return pjson.read_json(io.BytesIO(body))


# -- validating ---------------------------------------------------------------------------------


def ephemeral_context():
    """An ephemeral GX context with analytics and progress bars off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


@functools.cache
def _batch_definition():
    """One GX context per process with one pandas asset."""
    from great_expectations.execution_engine import pandas_execution_engine

    context = ephemeral_context()
    # GX labels each pandas batch with an md5 of the whole DataFrame, twice per validation: over
    # half the time of a suite on a million rows, for a marker the gate never reads. Turn it off.
    pandas_execution_engine.HASH_THRESHOLD = 0
    asset = context.data_sources.add_pandas("quality_gate").add_dataframe_asset("dataset")
    return asset.add_batch_definition_whole_dataframe("whole_dataframe")


def validate(df, suite_name: str, *, dataset: str, expectations_dir: Path = EXPECTATIONS_DIR) -> QualityResult:
    """Run suite ``suite_name`` on the pandas DataFrame ``df``; ``dataset`` names it in the result."""
    suite = load_suite(suite_name, expectations_dir)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
    return result_of(batch.validate(suite, result_format=RESULT_FORMAT), suite_name, dataset, len(df))


def result_of(outcome, suite_name: str, dataset: str, row_count: int) -> QualityResult:
    """The :class:`QualityResult` of a GX validation (either engine's)."""
    failures = [_failure(result) for result in outcome.results if not result.success]
    failures.sort(key=lambda failure: failure["column"] is not None)  # table-level first: they explain the rest
    evaluated = len(outcome.results)
    return QualityResult(
        suite=suite_name,
        dataset=dataset,
        success=bool(outcome.success),
        evaluated=evaluated,
        passed=evaluated - len(failures),
        failed=len(failures),
        row_count=row_count,
        failures=failures,
    )


def validate_s3_dataset(s3_client, uri: str, fmt: str, suite_name: str) -> QualityResult:
    """Read the dataset at ``uri`` and run suite ``suite_name`` on it."""
    load_suite(suite_name)  # a bad suite fails before any download
    return validate(read_dataset(s3_client, uri, fmt), suite_name, dataset=uri)


def validate_table(table, suite_name: str, *, dataset: str) -> QualityResult:
    """Run suite ``suite_name`` on an Arrow table (read with :func:`read_locations`)."""
    load_suite(suite_name)
    return validate(table.to_pandas(date_as_object=False), suite_name, dataset=dataset)


def _failure(result) -> dict[str, Any]:
    config = result.expectation_config
    kwargs = {key: value for key, value in config.kwargs.items() if key != "batch_id"}
    details = result.result or {}
    failure: dict[str, Any] = {
        "expectation": config.type,
        "column": _columns(kwargs),
        "kwargs": _json_safe(kwargs),
        "unexpected_count": _json_safe(details.get("unexpected_count")),
        "unexpected_percent": _json_safe(details.get("unexpected_percent")),
        "sample": _json_safe(list(details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]),
    }
    if "observed_value" in details:
        failure["observed_value"] = _json_safe(details["observed_value"])
    error = _exception_message(result.exception_info)
    if error:
        failure["error"] = error
    return failure


def _columns(kwargs: dict[str, Any]) -> str | list[str] | None:
    if "column" in kwargs:
        return kwargs["column"]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return None


def _exception_message(info: Any) -> str | None:
    """GX reports a raised exception flat or keyed by metric; either way, its first message."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    return next((m for m in map(_exception_message, info.values()) if m), None)


def _json_safe(value: Any) -> Any:
    """``value`` as plain JSON: numpy, pandas, date and Decimal values converted; NaN, NaT and NA -> None."""
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [_json_safe(item) for item in value]
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if pd.isna(value):
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return str(value)  # Decimal and anything else: its exact text
