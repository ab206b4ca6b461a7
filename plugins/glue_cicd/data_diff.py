"""Data diff: a release's candidate output against the published dataset, on a declared key.

Reviewer evidence: schema changes, row and key counts (added, removed, changed, duplicated, null),
per-column match rates, null and distinct counts, numeric summaries, top values, samples. The report
is a JSON-serialisable dict; :func:`problems` lists what should block a release, and
:func:`summary_markdown` renders it for an approval request.

Vectorised, without a join: each column is dictionary-encoded once over both tables together, so
keys are matched and values compared as integer codes (floats after rounding), with numpy doing the
bookkeeping on codes; columns are encoded in parallel threads. Rows whose key is null or occurs
more than once (on either side) are counted and sampled, but not compared.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from glue_cicd.errors import Refusal

TOP_VALUES = 5
SAMPLE_CHANGED_KEYS = 5
_NUMERIC = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
_CATEGORICAL = (pa.types.is_string, pa.types.is_large_string, pa.types.is_boolean, pa.types.is_dictionary)
# Doubles at or above 2**52 have no fractional digits left to round (and rounding them can overflow).
_ROUNDABLE = float(2**52)


class DiffError(Refusal):
    """The tables cannot be diffed as asked: a key or partition column is missing or incomparable."""


@dataclass
class _Encoded:
    """One column of both tables, dictionary-encoded together: codes per table (0 = null, i = dictionary[i-1])."""

    values: list[pa.ChunkedArray]  # the columns, cast to one type
    codes: list[np.ndarray]
    dictionary: pa.Array

    def counts(self, side: int) -> np.ndarray:
        """Rows per code on one side; [0] counts nulls."""
        return np.bincount(self.codes[side], minlength=len(self.dictionary) + 1)


@dataclass
class _Match:
    """Row positions by key: pairs present once on each side, added/removed rows, duplicated/null keys."""

    candidate: np.ndarray
    published: np.ndarray
    added: np.ndarray
    removed: np.ndarray
    duplicated: list[np.ndarray]  # per side, positions grouped by key
    null: list[np.ndarray]


def diff_tables(
    candidate: pa.Table,
    published: pa.Table | None,
    *,
    key: list[str],
    partition_by: list[str] = (),
    float_precision: int = 6,
    expected_changes: list[str] = (),
    sample_rows: int = 20,
    dataset: str = "",
) -> dict:
    """Compare ``candidate`` with ``published`` (None: nothing published yet) on ``key``; a JSON-ready report."""
    key, partition_by, expected = list(key), list(partition_by), list(expected_changes)
    tables = {"candidate": candidate} if published is None else {"candidate": candidate, "published": published}
    if not key:
        raise DiffError(f"{_prefix(dataset)}no key declared to compare rows on")
    _require(dataset, "key", key, tables)
    _require(dataset, "partition", partition_by, tables)
    first = published is None
    common = [] if first else [n for n in candidate.column_names if n in published.schema.names and n not in key]

    with ThreadPoolExecutor(max_workers=pa.cpu_count()) as pool:
        partitions = pool.submit(_partitions, tables, partition_by) if partition_by else None
        encodings = {name: pool.submit(_encode_column, candidate[name], published[name]) for name in common}
        codes = _key_codes(dataset, key, list(tables.values()))
        match = _match(codes)
        columns = [
            pool.submit(
                _column, candidate.schema.field(name), encodings[name].result(), match, float_precision, expected
            )
            for name in common
        ]
        columns = [future.result() for future in columns]

    schema = _schema(candidate, published)
    rows = {"candidate": candidate.num_rows, "published": None if first else published.num_rows}
    if partitions:
        rows["by_partition"] = partitions.result()
    changed = np.zeros(len(match.candidate), dtype=bool)
    for column in columns:
        if column.unequal is not None:
            changed |= column.unequal
    keys = {
        "added": None if first else len(match.added),
        "removed": None if first else len(match.removed),
        "changed": None if first else int(changed.sum()),
        "unchanged": None if first else int(len(changed) - changed.sum()),
        "duplicated_candidate": len(match.duplicated[0]),
        "duplicated_published": None if first else len(match.duplicated[1]),
        "null_candidate": len(match.null[0]),
        "null_published": None if first else len(match.null[1]),
    }
    base = max(rows["published"] or 0, 1)
    samples = {
        "added": _rows(candidate, match.added[:sample_rows]),
        "removed": [] if first else _rows(published, match.removed[:sample_rows]),
        "changed": [] if first else _changed_samples(candidate, published, key, match, columns, changed, sample_rows),
        "duplicated": _rows(candidate, match.duplicated[0][:sample_rows]),
        "null_key": _rows(candidate, match.null[0][:sample_rows]),
    }
    return {
        "dataset": dataset,
        "key": key,
        "first_release": first,
        "float_precision": float_precision,
        "schema": schema,
        "rows": rows,
        "keys": keys,
        "changed_share": None if first else (keys["added"] + keys["removed"] + keys["changed"]) / base,
        "removed_share": None if first else keys["removed"] / base,
        "columns": [column.report for column in columns],
        "undeclared_changes": [c.report["column"] for c in columns if c.report["undeclared_change"]],
        "expected_changes": expected,
        "samples": samples,
    }


def problems(
    report: dict, *, max_changed_share: float | None = None, max_removed_share: float | None = None
) -> list[str]:
    """What should block the release, one line each (undeclared changes are for the reviewer, not here)."""
    prefix = _prefix(report["dataset"])
    key, keys, found = ", ".join(report["key"]), report["keys"], []
    if keys["duplicated_candidate"]:
        example = _key_text(report["key"], report["samples"]["duplicated"][:1])
        found.append(
            f"{prefix}key ({key}) is not unique in the candidate: {keys['duplicated_candidate']:,} rows share "
            f"a key{'; e.g. ' + example if example else ''}"
        )
    if keys["null_candidate"]:
        found.append(f"{prefix}key ({key}) is null in {keys['null_candidate']:,} candidate rows")
    published = report["rows"]["published"]
    if report["first_release"] or not published:  # nothing published there yet: no share to judge
        return found
    if max_changed_share is not None and report["changed_share"] > max_changed_share:
        found.append(
            f"{prefix}{report['changed_share']:.2%} of the published rows differ ({keys['added']:,} added, "
            f"{keys['removed']:,} removed, {keys['changed']:,} changed; {published:,} published), "
            f"above the allowed {max_changed_share:.2%}"
        )
    if max_removed_share is not None and report["removed_share"] > max_removed_share:
        found.append(
            f"{prefix}{report['removed_share']:.2%} of the published rows are removed ({keys['removed']:,} of "
            f"{published:,}), above the allowed {max_removed_share:.2%}"
        )
    return found


def summary_markdown(report: dict, *, max_columns: int = 12) -> str:
    """A compact Markdown section for an approval request."""
    key, keys, rows = ", ".join(report["key"]), report["keys"], report["rows"]
    lines = [f"#### Data diff: {report['dataset'] or 'dataset'} (key: `{key}`)", ""]
    if report["first_release"]:
        columns = ", ".join(f"`{c['column']}` {c['type']}" for c in report["schema"]["columns"])
        lines.append(f"First release: nothing published yet. Candidate: **{rows['candidate']:,}** rows; {columns}.")
    else:
        lines.append(
            f"Rows: **{rows['candidate']:,}** candidate vs **{rows['published']:,}** published. "
            f"Keys: **{keys['added']:,}** added, **{keys['removed']:,}** removed, **{keys['changed']:,}** changed, "
            f"{keys['unchanged']:,} unchanged ({report['changed_share']:.2%} of published rows differ)."
        )
        lines.append(f"Schema: {_schema_text(report['schema'])}.")
        if rows.get("by_partition"):
            moved = [p for p in rows["by_partition"] if p["candidate"] != p["published"]]
            lines.append(f"Partitions: {len(rows['by_partition'])}, {len(moved)} with a different row count.")
    for side in ("candidate", "published"):
        if keys[f"duplicated_{side}"]:
            lines.append(f"> ⚠️ {keys[f'duplicated_{side}']:,} {side} rows share a key with another row (not compared).")
        if keys[f"null_{side}"]:
            lines.append(f"> ⚠️ {keys[f'null_{side}']:,} {side} rows have a null key (not compared).")
    if report["undeclared_changes"]:
        names = ", ".join(f"`{c}`" for c in report["undeclared_changes"])
        lines.append(f"> ⚠️ **Undeclared changes**: {names} changed, not declared in `expected_changes`.")
    changed = sorted((c for c in report["columns"] if c["changed"]), key=lambda c: -c["changed"])
    if changed:
        lines += ["", "| column | match rate | changed | shift |", "|---|---:|---:|---|"]
        for c in changed[:max_columns]:
            flag = " ⚠️" if c["undeclared_change"] else ""
            lines.append(f"| `{c['column']}`{flag} | {c['match_rate']:.2%} | {c['changed']:,} | {_shift(c)} |")
        if len(changed) > max_columns:
            lines.append(f"| … {len(changed) - max_columns} more | | | |")
    samples = report["samples"]["changed"][:SAMPLE_CHANGED_KEYS]
    if samples:
        lines += ["", "Sample changed keys:"]
        for sample in samples:
            changes = "; ".join(f"{col}: {_cell(old)} → {_cell(new)}" for col, (old, new) in sample["changes"].items())
            lines.append(f"- {_key_text(report['key'], [sample['key']])}: {changes}")
    return "\n".join(lines)


# ---- diff_tables helpers


def _prefix(dataset: str) -> str:
    return f"{dataset}: " if dataset else ""


def _require(dataset: str, what: str, names: list[str], tables: dict[str, pa.Table]) -> None:
    for side, table in tables.items():
        missing = [n for n in names if n not in table.schema.names]
        if missing:
            raise DiffError(
                f"{_prefix(dataset)}{what} column(s) {', '.join(missing)} missing from the {side} table "
                f"(columns: {', '.join(table.schema.names)})"
            )


def _schema(candidate: pa.Table, published: pa.Table | None) -> dict:
    columns = [{"column": f.name, "type": str(f.type)} for f in candidate.schema]
    if published is None:
        return {"columns": columns, "added": [], "removed": [], "retyped": []}
    before = {f.name: str(f.type) for f in published.schema}
    return {
        "columns": columns,
        "added": [c for c in columns if c["column"] not in before],
        "removed": [{"column": n, "type": t} for n, t in before.items() if n not in candidate.schema.names],
        "retyped": [
            {"column": c["column"], "from": before[c["column"]], "to": c["type"]}
            for c in columns
            if c["column"] in before and before[c["column"]] != c["type"]
        ],
    }


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(column, column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _encode_column(*columns: pa.ChunkedArray) -> _Encoded | None:
    """The columns as one type (the first's, else strings), encoded together; None if they cannot be."""
    decoded = [_decoded(c) for c in columns]
    for target in dict.fromkeys([decoded[0].type, pa.string()]):
        try:
            values = [v if v.type == target else pc.cast(v, target) for v in decoded]
            joined = pc.dictionary_encode(pa.chunked_array([ch for v in values for ch in v.chunks], type=target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        if not joined.num_chunks:
            return _Encoded(values, [np.zeros(0, np.int32) for _ in values], pa.array([], target))
        codes = np.concatenate([pc.fill_null(ch.indices, -1).to_numpy() for ch in joined.chunks]) + 1
        return _Encoded(values, np.split(codes, np.cumsum([len(v) for v in values])[:-1]), joined.chunks[-1].dictionary)
    return None


def _key_codes(dataset: str, key: list[str], tables: list[pa.Table]) -> list[np.ndarray]:
    """One code per row and table for the (composite) key: 0 when any key column is null."""
    combined = None
    for name in key:
        encoded = _encode_column(*(t[name] for t in tables))
        if encoded is None:
            types = " / ".join(str(t.schema.field(name).type) for t in tables)
            raise DiffError(f"{_prefix(dataset)}key column {name} cannot be compared ({types})")
        codes = np.concatenate(encoded.codes).astype(np.int64)
        if combined is not None:
            codes = np.where((combined > 0) & (codes > 0), (combined - 1) * len(encoded.dictionary) + codes, 0)
            dense = pc.dictionary_encode(pa.array(codes, mask=codes == 0)).indices
            codes = pc.fill_null(dense, -1).to_numpy().astype(np.int64) + 1
        combined = codes
    return np.split(combined, [tables[0].num_rows])[: len(tables)]


def _match(codes: list[np.ndarray]) -> _Match:
    size = int(max((c.max(initial=0) for c in codes), default=0)) + 1
    counts = [np.bincount(c, minlength=size) for c in codes]
    duplicated, null, unique = [], [], []
    for side, c in enumerate(codes):
        repeated = (c > 0) & (counts[side][c] > 1)
        positions = np.flatnonzero(repeated)
        duplicated.append(positions[np.argsort(c[positions], kind="stable")])
        null.append(np.flatnonzero(c == 0))
        unique.append((c > 0) & ~repeated)
    if len(codes) == 1:
        none = np.zeros(0, np.int64)
        return _Match(none, none, np.flatnonzero(unique[0]), none, duplicated, null)
    (cand, pub), (count_c, count_p) = codes, counts
    matched = np.flatnonzero(unique[0] & (count_p[cand] == 1))
    position = np.zeros(size, np.int64)
    position[pub] = np.arange(len(pub))
    return _Match(
        candidate=matched,
        published=position[cand[matched]],
        added=np.flatnonzero(unique[0] & (count_p[cand] == 0)),
        removed=np.flatnonzero(unique[1] & (count_c[pub] == 0)),
        duplicated=duplicated,
        null=null,
    )


@dataclass
class _Column:
    report: dict
    unequal: np.ndarray | None  # per matched pair


def _column(field: pa.Field, encoded: _Encoded | None, match: _Match, digits: int, expected: list[str]) -> _Column:
    """Per-column statistics on both tables, and the comparison of matched rows."""
    if encoded is None:
        unequal = None
    elif pa.types.is_floating(encoded.values[0].type):
        cand, pub = (
            v.take(pa.array(p)) for v, p in zip(encoded.values, (match.candidate, match.published), strict=True)
        )
        unequal = ~_float_equal(cand, pub, digits)
    else:
        unequal = encoded.codes[0][match.candidate] != encoded.codes[1][match.published]
    changed = None if unequal is None else int(unequal.sum())
    report = {
        "column": field.name,
        "type": str(field.type),
        "match_rate": None if changed is None or not len(unequal) else (len(unequal) - changed) / len(unequal),
        "changed": changed,
        "null_rate": None,
        "distinct": None,
        "numeric": None,
        "top_values": None,
        "expected_to_change": field.name in expected,
        "undeclared_change": bool(changed) and field.name not in expected,
    }
    if encoded is None:
        return _Column(report, unequal)
    counts = [encoded.counts(side) for side in (1, 0)]  # published, candidate
    report["null_rate"] = _pair(lambda c: int(c[0]) / int(c.sum()) if c.sum() else None, counts)
    report["distinct"] = _pair(lambda c: int(np.count_nonzero(c[1:])), counts)
    values = encoded.values[::-1]
    kind = values[0].type
    if any(is_(kind) for is_ in _NUMERIC):
        extremes = [pc.min_max(v) for v in values]
        report["numeric"] = {
            "min": [_json(e["min"].as_py()) for e in extremes],
            "max": [_json(e["max"].as_py()) for e in extremes],
            "mean": [_json(pc.mean(v).as_py()) for v in values],
        }
    if any(is_(t) for is_ in _CATEGORICAL for t in (field.type, kind)):
        report["top_values"] = _pair(lambda c: _top(c[1:], encoded.dictionary), counts)
    return _Column(report, unequal)


def _float_equal(a: pa.ChunkedArray, b: pa.ChunkedArray, digits: int) -> np.ndarray:
    """Equal after rounding to ``digits`` decimals; null equals null, NaN equals NaN."""
    rounded = [_rounded(x.cast(pa.float64()), digits) for x in (a, b)]
    equal = pc.fill_null(pc.equal(*rounded), False).to_numpy()
    both_null = pc.and_(a.is_null(), b.is_null()).to_numpy()
    both_nan = pc.fill_null(pc.and_(*(pc.is_nan(x) for x in rounded)), False).to_numpy()
    return equal | both_null | both_nan


def _rounded(values: pa.ChunkedArray, digits: int) -> pa.ChunkedArray:
    roundable = pc.less(pc.abs(values), _ROUNDABLE)
    return pc.if_else(roundable, pc.round(pc.if_else(roundable, values, 0.0), digits), values)


def _top(counts: np.ndarray, dictionary: pa.Array) -> list[list]:
    """The most frequent values and their counts; ties in the order the values were first seen."""
    present = np.flatnonzero(counts)
    if len(present) > TOP_VALUES:
        present = present[counts[present] >= np.partition(counts[present], -TOP_VALUES)[-TOP_VALUES]]
    top = present[np.argsort(-counts[present], kind="stable")][:TOP_VALUES]
    return [[_json(v), int(n)] for v, n in zip(dictionary.take(pa.array(top)).to_pylist(), counts[top], strict=True)]


def _pair(function, counts: list[np.ndarray]) -> dict:
    return {"published": function(counts[0]), "candidate": function(counts[1])}


def _partitions(tables: dict[str, pa.Table], partition_by: list[str]) -> list[dict]:
    """Rows per partition value on each side."""
    found: dict[tuple, dict] = {}
    for side, table in tables.items():
        grouped = table.select(partition_by).group_by(partition_by, use_threads=False).aggregate([([], "count_all")])
        for row in grouped.to_pylist():
            values = {c: None if row[c] is None else str(_json(row[c])) for c in partition_by}
            entry = found.setdefault(tuple(values.values()), {"partition": values, "candidate": 0, "published": 0})
            entry[side] = row["count_all"]
    if "published" not in tables:
        for entry in found.values():
            entry["published"] = None
    return [found[k] for k in sorted(found, key=lambda k: [(v is not None, v or "") for v in k])]


def _rows(table: pa.Table, positions: np.ndarray) -> list[dict]:
    return _json(table.take(pa.array(positions, pa.int64())).to_pylist())


def _changed_samples(
    candidate: pa.Table,
    published: pa.Table,
    key: list[str],
    match: _Match,
    columns: list[_Column],
    changed: np.ndarray,
    limit: int,
) -> list[dict]:
    pairs = np.flatnonzero(changed)[:limit]
    after = _rows(candidate, match.candidate[pairs])
    before = _rows(published, match.published[pairs])
    samples = []
    for i, pair in enumerate(pairs):
        changes = {
            c.report["column"]: [before[i][c.report["column"]], after[i][c.report["column"]]]
            for c in columns
            if c.unequal is not None and c.unequal[pair]
        }
        samples.append({"key": {k: after[i][k] for k in key}, "changes": changes})
    return samples


def _json(value: Any) -> Any:
    """``value`` with only JSON types: ISO dates and times, decimals as strings, NaN as None."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None if math.isnan(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


# ---- summary helpers


def _schema_text(schema: dict) -> str:
    parts = [f"added `{c['column']}` ({c['type']})" for c in schema["added"]]
    parts += [f"removed `{c['column']}` ({c['type']})" for c in schema["removed"]]
    parts += [f"`{c['column']}` retyped {c['from']} → {c['to']}" for c in schema["retyped"]]
    return "; ".join(parts) if parts else "unchanged"


def _shift(column: dict) -> str:
    """The column's most telling change in brief: mean, most shifted top value, null rate, distinct count."""
    parts = []
    if column["numeric"]:
        before, after = column["numeric"]["mean"]
        parts.append(f"mean {_number(before)} → {_number(after)}")
    if column["top_values"]:
        before = dict(map(tuple, column["top_values"]["published"]))
        after = dict(map(tuple, column["top_values"]["candidate"]))
        both = [v for v in after if v in before and before[v] != after[v]]
        if both:
            value = max(both, key=lambda v: abs(after[v] - before[v]))
            parts.append(f"{_cell(value)}: {before[value]:,} → {after[value]:,}")
    nulls = column["null_rate"]
    if nulls and nulls["published"] != nulls["candidate"]:
        parts.append(f"nulls {_percent(nulls['published'])} → {_percent(nulls['candidate'])}")
    distinct = column["distinct"]
    if distinct and distinct["published"] != distinct["candidate"] and len(parts) < 2:
        parts.append(f"distinct {distinct['published']:,} → {distinct['candidate']:,}")
    return "; ".join(parts[:2])


def _number(value: Any) -> str:
    return f"{value:,.6g}" if isinstance(value, float) else _cell(value)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _cell(value: Any, width: int = 40) -> str:
    text = "null" if value is None else str(value)
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.replace("|", "\\|").replace("\n", " ")


def _key_text(key: list[str], rows: list[dict]) -> str:
    return ", ".join(f"{k}={_cell(rows[0].get(k))}" for k in key) if rows else ""
