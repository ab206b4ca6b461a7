"""The checks job's work on Spark: read a request's data entries, validate them with Great
Expectations' Spark engine, diff two of them.

Runs inside the checks job (:mod:`glue_cicd.checks_job`: on AWS Glue, or the emulator's local
Spark); the Airflow worker never imports it. It gives what the in-process path gives on the same
data: the same :class:`~glue_cicd.quality.QualityResult` (suites are the same files; the pandas
type names of ``expect_column_values_to_be_of_type`` are read as their Spark types) and the same
data diff report (:func:`glue_cicd.data_diff.diff_tables`: keys matched the same way, floats
compared after rounding half to even, null equal to null), so :func:`glue_cicd.data_diff.problems`
judges either. Sample rows and the order of tied top values may differ.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

from glue_cicd.data_diff import _ROUNDABLE, TOP_VALUES, DiffError, _json, _prefix
from glue_cicd.errors import Refusal
from glue_cicd.quality import RESULT_FORMAT, load_suite, result_of

# The pandas dtype names suites use, and the Spark types that hold the same values (the first is
# what a column of any other type is checked against, and fails).
SPARK_TYPES = {
    "str": ("StringType",),
    "object": ("StringType",),
    "string": ("StringType",),
    "float64": ("DoubleType",),
    "float32": ("FloatType",),
    "int64": ("LongType",),
    "int32": ("IntegerType",),
    "int16": ("ShortType",),
    "int8": ("ByteType",),
    "bool": ("BooleanType",),
    "datetime64": ("DateType", "TimestampNTZType"),
    "Timestamp": ("TimestampType",),
}
_NUMERIC = ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal")
_FLOATING = ("float", "double")
_CATEGORICAL = ("string", "boolean")


def run_check(spark, check: dict[str, Any]) -> dict[str, Any]:
    """One check of a request: its result, or ``{"refused": why}`` for what the in-process path
    refuses too (no data, a bad suite, an impossible diff). Anything else raises."""
    try:
        if check["kind"] == "validate":
            return validate(read(spark, check["data"]), check["suite"], dataset=check["dataset"])
        candidate = read(spark, check["candidate"])
        published = check["published"]
        if published is not None:
            published = candidate.limit(0) if published == "empty" else read(spark, published)
        return diff(candidate, published, dataset=check["dataset"], **check["options"])
    except Refusal as exc:
        return {"refused": str(exc)}


# -- reading -------------------------------------------------------------------------------------


def read(spark, entry: dict[str, Any]):
    """A data entry (:func:`glue_cicd.check_requests.data_entry`) as one DataFrame: each file's
    columns, plus its partition values as typed columns where the file lacks them."""
    from pyspark.sql import functions as F

    from glue_cicd.quality import DatasetUnavailableError

    if not entry["files"]:
        raise DatasetUnavailableError("no data files to read")
    groups: dict[str, list[str]] = {}
    for file in entry["files"]:
        groups.setdefault(json.dumps(file["values"], sort_keys=True), []).append(file["uri"])
    frames = []
    for values, uris in groups.items():
        frame = _reader(spark, entry["format"], uris)
        for name, value in json.loads(values).items():
            if name not in frame.columns:
                frame = frame.withColumn(name, F.lit(value).cast(entry["partition_types"][name]))
        frames.append(frame)
    return functools.reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def _reader(spark, fmt: str, uris: list[str]):
    if fmt == "parquet":
        return spark.read.parquet(*uris)
    if fmt == "csv":
        return spark.read.csv(uris, header=True, inferSchema=True)
    return spark.read.json(uris)


# -- validating ----------------------------------------------------------------------------------


def validate(frame, suite: dict[str, Any], *, dataset: str) -> dict[str, Any]:
    """Run ``suite`` (a suite file's JSON) on ``frame`` with GX's Spark engine."""
    from pyspark import StorageLevel

    suite = for_spark(suite, {f.name: type(f.dataType).__name__ for f in frame.schema.fields})
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / f"{suite['name']}.json").write_text(json.dumps(suite))
        loaded = load_suite(suite["name"], Path(folder))
    frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        rows = frame.count()
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        return result_of(batch.validate(loaded, result_format=RESULT_FORMAT), suite["name"], dataset, rows).to_dict()
    finally:
        frame.unpersist()


def for_spark(suite: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """``suite`` with each pandas type name of a type expectation replaced by the Spark type of the
    same values: the column's own type when it is one of those, else the usual one."""

    def spark_type(name: str, column: str | None) -> str:
        types = SPARK_TYPES.get(name)
        if types is None:
            return name  # already a Spark type name, or one no column has
        return columns[column] if columns.get(column) in types else types[0]

    expectations = []
    for item in suite.get("expectations", []):
        kwargs, kind = dict(item.get("kwargs") or {}), item.get("type")
        if kind == "expect_column_values_to_be_of_type" and isinstance(kwargs.get("type_"), str):
            kwargs["type_"] = spark_type(kwargs["type_"], kwargs.get("column"))
        elif kind == "expect_column_values_to_be_in_type_list" and isinstance(kwargs.get("type_list"), list):
            kwargs["type_list"] = [spark_type(t, kwargs.get("column")) for t in kwargs["type_list"]]
        expectations.append({**item, "kwargs": kwargs})
    return {**suite, "expectations": expectations}


@functools.cache
def _batch_definition():
    from glue_cicd.quality import ephemeral_context

    asset = ephemeral_context().data_sources.add_spark("checks_job").add_dataframe_asset("dataset")
    return asset.add_batch_definition_whole_dataframe("whole_dataframe")


# -- diffing -------------------------------------------------------------------------------------


def diff(
    candidate,
    published,
    *,
    key: list[str],
    partition_by: list[str] = (),
    float_precision: int = 6,
    expected_changes: list[str] = (),
    sample_rows: int = 20,
    dataset: str = "",
) -> dict[str, Any]:
    """:func:`glue_cicd.data_diff.diff_tables` on DataFrames: the same report, computed by Spark."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    key, partition_by, expected = list(key), list(partition_by), list(expected_changes)
    if not key:
        raise DiffError(f"{_prefix(dataset)}no key declared to compare rows on")
    sides = {"candidate": candidate} if published is None else {"candidate": candidate, "published": published}
    for what, names in (("key", key), ("partition", partition_by)):
        for side, frame in sides.items():
            missing = [n for n in names if n not in frame.columns]
            if missing:
                raise DiffError(
                    f"{_prefix(dataset)}{what} column(s) {', '.join(missing)} missing from the {side} table "
                    f"(columns: {', '.join(frame.columns)})"
                )
    first = published is None
    types = {side: dict(frame.dtypes) for side, frame in sides.items()}
    if not first:  # keys of different types are matched as text, as the in-process diff falls back to
        retyped = [k for k in key if types["candidate"][k] != types["published"][k]]
        sides = {side: f.select(*[F.col(c).cast("string") if c in retyped else F.col(c) for c in f.columns])
                 for side, f in sides.items()}  # fmt: skip
    sides = {side: frame.persist(StorageLevel.MEMORY_AND_DISK) for side, frame in sides.items()}
    null_key = functools.reduce(lambda a, b: a | b, [F.col(k).isNull() for k in key])
    counts = [
        frame.filter(~null_key).groupBy(*key).agg(F.count(F.lit(1)).alias(f"__n_{side}"))
        for side, frame in sides.items()
    ]
    keys = counts[0] if first else counts[0].join(counts[1], key, "full_outer")
    if first:
        keys = keys.withColumn("__n_published", F.lit(None).cast("bigint"))
    keys = keys.persist(StorageLevel.MEMORY_AND_DISK)
    n_c, n_p = F.col("__n_candidate"), F.col("__n_published")
    unique_c, unique_p = n_c == 1, n_p == 1
    tally = keys.agg(
        F.coalesce(F.sum(F.when(n_c > 1, n_c)), F.lit(0)).alias("duplicated_candidate"),
        F.coalesce(F.sum(F.when(n_p > 1, n_p)), F.lit(0)).alias("duplicated_published"),
        F.count(F.when(unique_c & unique_p, 1)).alias("matched"),
        F.count(F.when(unique_c & n_p.isNull(), 1)).alias("added"),
        F.count(F.when(unique_p & n_c.isNull(), 1)).alias("removed"),
    ).first()
    nulls = {side: frame.filter(null_key).count() for side, frame in sides.items()}
    rows = {side: frame.count() for side, frame in sides.items()}

    common = [] if first else [n for n in candidate.columns if n in sides["published"].columns and n not in key]
    pairs = None
    if common:
        matched = keys.filter(unique_c & unique_p).select(*key)
        pairs = (
            sides["candidate"].select(*key, *[F.col(n).alias(f"c__{n}") for n in common]).join(matched, key)
            .join(sides["published"].select(*key, *[F.col(n).alias(f"p__{n}") for n in common]), key)
            .withColumns({f"u__{n}": _unequal(n, types, float_precision) for n in common})
        ).persist(StorageLevel.MEMORY_AND_DISK)  # fmt: skip
    changed_by = {}
    changed = 0
    if pairs is not None:
        any_change = functools.reduce(lambda a, b: a | b, [F.col(f"u__{n}") for n in common])
        counted = pairs.agg(
            *[F.sum(F.col(f"u__{n}").cast("long")).alias(n) for n in common], F.count(F.when(any_change, 1)).alias("*")
        ).first()
        changed_by = {n: int(counted[n] or 0) for n in common}
        changed = int(counted["*"])
    matched_count = tally["matched"]
    columns = [_column(n, types, sides, matched_count, changed_by[n], expected) for n in common]

    report_keys = {
        "added": None if first else tally["added"],
        "removed": None if first else tally["removed"],
        "changed": None if first else changed,
        "unchanged": None if first else matched_count - changed,
        "duplicated_candidate": int(tally["duplicated_candidate"]),
        "duplicated_published": None if first else int(tally["duplicated_published"]),
        "null_candidate": nulls["candidate"],
        "null_published": None if first else nulls["published"],
    }
    report_rows = {"candidate": rows["candidate"], "published": None if first else rows["published"]}
    if partition_by:
        report_rows["by_partition"] = _partitions(sides, partition_by)
    base = max(report_rows["published"] or 0, 1)

    def rows_of(frame, limit: int = sample_rows) -> list[dict]:
        return [_json(row.asDict(recursive=True)) for row in frame.limit(limit).collect()]

    def with_keys(side: str, condition) -> Any:
        return sides[side].join(keys.filter(condition).select(*key), key, "left_semi")

    samples = {
        "added": rows_of(with_keys("candidate", unique_c & n_p.isNull())),
        "removed": [] if first else rows_of(with_keys("published", unique_p & n_c.isNull())),
        "changed": [] if pairs is None else _changed_samples(pairs, key, common, sample_rows),
        "duplicated": rows_of(with_keys("candidate", n_c > 1).orderBy(*key)),
        "null_key": rows_of(sides["candidate"].filter(null_key)),
    }
    for frame in (*sides.values(), keys, *([pairs] if pairs is not None else [])):
        frame.unpersist()
    return {
        "dataset": dataset,
        "key": key,
        "first_release": first,
        "float_precision": float_precision,
        "schema": _schema(types),
        "rows": report_rows,
        "keys": report_keys,
        "changed_share": None if first else (tally["added"] + tally["removed"] + changed) / base,
        "removed_share": None if first else tally["removed"] / base,
        "columns": columns,
        "undeclared_changes": [c["column"] for c in columns if c["undeclared_change"]],
        "expected_changes": expected,
        "samples": samples,
    }


def _unequal(name: str, types: dict[str, dict[str, str]], digits: int):
    """Whether a matched pair differs in column ``name`` (floats after rounding half to even)."""
    from pyspark.sql import functions as F

    after, before = F.col(f"c__{name}"), F.col(f"p__{name}")
    kind, other = types["candidate"][name], types["published"][name]
    if kind in _FLOATING:

        def rounded(value):
            value = value.cast("double")
            return F.when(F.abs(value) < _ROUNDABLE, F.bround(value, digits)).otherwise(value)

        return ~rounded(after).eqNullSafe(rounded(before))
    if kind != other:
        after, before = after.cast("string"), before.cast("string")
    return ~after.eqNullSafe(before)


def _column(name, types, sides, matched: int, changed: int, expected: list[str]) -> dict[str, Any]:
    """Per-column statistics of both sides, as the in-process diff reports them."""
    from pyspark.sql import functions as F

    kind = types["candidate"][name]
    numeric = kind.startswith(_NUMERIC)
    stats = {}
    for side in ("published", "candidate"):
        column = F.col(name)
        if types[side][name] != kind and not kind.startswith(_FLOATING):
            column = column.cast("string")
        aggregates = [F.count(F.lit(1)).alias("rows"), F.count(column).alias("values"),
                      F.countDistinct(column).alias("distinct")]  # fmt: skip
        if numeric:
            aggregates += [F.min(column).alias("min"), F.max(column).alias("max"), F.avg(column).alias("mean")]
        stats[side] = sides[side].agg(*aggregates).first().asDict()
        if kind in _CATEGORICAL:
            top = sides[side].filter(column.isNotNull()).groupBy(column.alias("v")).count()
            top = top.orderBy(F.desc("count"), "v").limit(TOP_VALUES).collect()
            stats[side]["top"] = [[_json(row["v"]), int(row["count"])] for row in top]

    def pair(function):
        return {side: function(stats[side]) for side in ("published", "candidate")}

    return {
        "column": name,
        "type": kind,
        "match_rate": (matched - changed) / matched if matched else None,
        "changed": changed,
        "null_rate": pair(lambda s: (s["rows"] - s["values"]) / s["rows"] if s["rows"] else None),
        "distinct": pair(lambda s: int(s["distinct"])),
        "numeric": {s: [_json(stats[side][s]) for side in ("published", "candidate")] for s in ("min", "max", "mean")}
        if numeric
        else None,
        "top_values": pair(lambda s: s["top"]) if kind in _CATEGORICAL else None,
        "expected_to_change": name in expected,
        "undeclared_change": bool(changed) and name not in expected,
    }


def _partitions(sides: dict[str, Any], partition_by: list[str]) -> list[dict]:
    found: dict[tuple, dict] = {}
    for side, frame in sides.items():
        for row in frame.groupBy(*partition_by).count().collect():
            values = {c: None if row[c] is None else str(_json(row[c])) for c in partition_by}
            entry = found.setdefault(tuple(values.values()), {"partition": values, "candidate": 0, "published": 0})
            entry[side] = int(row["count"])
    if "published" not in sides:
        for entry in found.values():
            entry["published"] = None
    return [found[k] for k in sorted(found, key=lambda k: [(v is not None, v or "") for v in k])]


def _changed_samples(pairs, key: list[str], common: list[str], limit: int) -> list[dict]:
    from pyspark.sql import functions as F

    any_change = functools.reduce(lambda a, b: a | b, [F.col(f"u__{n}") for n in common])
    samples = []
    for row in pairs.filter(any_change).limit(limit).collect():
        values = _json(row.asDict(recursive=True))
        changes = {n: [values[f"p__{n}"], values[f"c__{n}"]] for n in common if row[f"u__{n}"]}
        samples.append({"key": {k: values[k] for k in key}, "changes": changes})
    return samples


def _schema(types: dict[str, dict[str, str]]) -> dict[str, Any]:
    columns = [{"column": n, "type": t} for n, t in types["candidate"].items()]
    if "published" not in types:
        return {"columns": columns, "added": [], "removed": [], "retyped": []}
    before = types["published"]
    return {
        "columns": columns,
        "added": [c for c in columns if c["column"] not in before],
        "removed": [{"column": n, "type": t} for n, t in before.items() if n not in types["candidate"]],
        "retyped": [
            {"column": c["column"], "from": before[c["column"]], "to": c["type"]}
            for c in columns
            if c["column"] in before and before[c["column"]] != c["type"]
        ],
    }
