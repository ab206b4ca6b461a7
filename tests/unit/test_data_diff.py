"""The data diff: a candidate table against the published one, on a declared key."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from glue_cicd.data_diff import DiffError, diff_tables, problems, summary_markdown

PUBLISHED = pa.table(
    {
        "sale_id": ["S1", "S2", "S3", "S4"],
        "amount": [10.0, 20.0, 30.0, 40.0],
        "status": ["completed", "pending", "completed", "refunded"],
    }
)


def sales(ids: list[str], amounts: list[float | None], statuses: list[str | None] | None = None) -> pa.Table:
    return pa.table({"sale_id": ids, "amount": amounts, "status": statuses or ["completed"] * len(ids)})


def column(report: dict, name: str) -> dict:
    return next(c for c in report["columns"] if c["column"] == name)


def test_identical_tables_match_everywhere():
    report = diff_tables(PUBLISHED, PUBLISHED, key=["sale_id"], dataset="sales")

    assert report["keys"] == {
        "added": 0,
        "removed": 0,
        "changed": 0,
        "unchanged": 4,
        "duplicated_candidate": 0,
        "duplicated_published": 0,
        "null_candidate": 0,
        "null_published": 0,
    }
    assert (report["changed_share"], report["removed_share"]) == (0.0, 0.0)
    assert [c["column"] for c in report["columns"]] == ["amount", "status"]
    assert all(c["match_rate"] == 1.0 and c["changed"] == 0 for c in report["columns"])
    assert report["schema"] == {
        "columns": [
            {"column": "sale_id", "type": "string"},
            {"column": "amount", "type": "double"},
            {"column": "status", "type": "string"},
        ],
        "added": [],
        "removed": [],
        "retyped": [],
    }
    assert report["undeclared_changes"] == []
    assert report["samples"] == {"added": [], "removed": [], "changed": [], "duplicated": [], "null_key": []}
    assert problems(report, max_changed_share=0.0, max_removed_share=0.0) == []


def test_added_removed_and_changed_keys_are_counted_and_sampled():
    candidate = sales(["S2", "S3", "S4", "S5"], [25.0, 30.0, 40.0, 50.0], ["pending", "completed", "pending", "new"])

    report = diff_tables(candidate, PUBLISHED, key=["sale_id"])

    assert report["rows"] == {"candidate": 4, "published": 4}
    keys = report["keys"]
    assert (keys["added"], keys["removed"], keys["changed"], keys["unchanged"]) == (1, 1, 2, 1)
    assert report["changed_share"] == 4 / 4
    assert report["removed_share"] == 1 / 4
    assert report["samples"]["added"] == [{"sale_id": "S5", "amount": 50.0, "status": "new"}]
    assert report["samples"]["removed"] == [{"sale_id": "S1", "amount": 10.0, "status": "completed"}]
    assert report["samples"]["changed"] == [
        {"key": {"sale_id": "S2"}, "changes": {"amount": [20.0, 25.0]}},
        {"key": {"sale_id": "S4"}, "changes": {"status": ["refunded", "pending"]}},
    ]
    amount, status = column(report, "amount"), column(report, "status")
    assert (amount["match_rate"], amount["changed"]) == (2 / 3, 1)
    assert (status["match_rate"], status["changed"]) == (2 / 3, 1)


def test_samples_are_limited_to_sample_rows():
    published = sales([f"S{i}" for i in range(50)], [float(i) for i in range(50)])
    candidate = sales([f"S{i}" for i in range(50)], [float(i) + 1 for i in range(50)])

    report = diff_tables(candidate, published, key=["sale_id"], sample_rows=3)

    assert report["keys"]["changed"] == 50
    assert [s["key"]["sale_id"] for s in report["samples"]["changed"]] == ["S0", "S1", "S2"]


def test_floats_are_compared_after_rounding_to_the_declared_precision():
    published = sales(["S1", "S2", "S3", "S4"], [1.0, 1.0, 1e300, math.nan])
    candidate = sales(["S1", "S2", "S3", "S4"], [1.0000001, 1.01, 1e300, math.nan])

    report = diff_tables(candidate, published, key=["sale_id"])
    assert column(report, "amount")["changed"] == 1
    assert report["samples"]["changed"] == [{"key": {"sale_id": "S2"}, "changes": {"amount": [1.0, 1.01]}}]

    coarse = diff_tables(candidate, published, key=["sale_id"], float_precision=1)
    assert column(coarse, "amount")["changed"] == 0


def test_null_equals_null_but_not_a_value():
    published = sales(["S1", "S2", "S3"], [None, None, 3.0], [None, "a", None])
    candidate = sales(["S1", "S2", "S3"], [None, 2.0, 3.0], [None, "a", "c"])

    report = diff_tables(candidate, published, key=["sale_id"])

    assert column(report, "amount")["changed"] == 1
    assert column(report, "status")["changed"] == 1
    assert report["keys"]["unchanged"] == 1
    assert report["samples"]["changed"] == [
        {"key": {"sale_id": "S2"}, "changes": {"amount": [None, 2.0]}},
        {"key": {"sale_id": "S3"}, "changes": {"status": [None, "c"]}},
    ]
    assert column(report, "amount")["null_rate"] == {"published": 2 / 3, "candidate": 1 / 3}


def test_schema_changes_added_removed_and_retyped_columns():
    published = pa.table(
        {
            "sale_id": ["S1", "S2"],
            "quantity": pa.array([1, 2], pa.int32()),
            "code": pa.array([7, 8], pa.int64()),
            "legacy": ["x", "y"],
        }
    )
    candidate = pa.table(
        {
            "sale_id": ["S1", "S2"],
            "quantity": pa.array([1, 3], pa.int64()),
            "code": ["7", "08"],
            "channel": ["web", "shop"],
        }
    )

    report = diff_tables(candidate, published, key=["sale_id"])

    assert report["schema"]["added"] == [{"column": "channel", "type": "string"}]
    assert report["schema"]["removed"] == [{"column": "legacy", "type": "string"}]
    assert report["schema"]["retyped"] == [
        {"column": "quantity", "from": "int32", "to": "int64"},
        {"column": "code", "from": "int64", "to": "string"},
    ]
    assert [c["column"] for c in report["columns"]] == ["quantity", "code"]
    assert (column(report, "quantity")["type"], column(report, "quantity")["changed"]) == ("int64", 1)
    assert column(report, "code")["changed"] == 1  # 8 -> "08", compared as text
    assert "added `channel` (string); removed `legacy` (string); `quantity` retyped int32 → int64" in (
        summary_markdown(report)
    )


def test_duplicated_and_null_keys_in_the_candidate_are_problems_and_not_compared():
    candidate = sales(["S1", "S1", "S2", None, "S3", "S1"], [10.0, 11.0, 99.0, 5.0, 30.0, 12.0])

    report = diff_tables(candidate, PUBLISHED, key=["sale_id"], dataset="sales")

    keys = report["keys"]
    assert (keys["duplicated_candidate"], keys["null_candidate"]) == (3, 1)
    assert (keys["added"], keys["removed"], keys["changed"], keys["unchanged"]) == (0, 1, 1, 1)
    assert [row["amount"] for row in report["samples"]["duplicated"]] == [10.0, 11.0, 12.0]
    assert report["samples"]["null_key"] == [{"sale_id": None, "amount": 5.0, "status": "completed"}]
    assert problems(report) == [
        "sales: key (sale_id) is not unique in the candidate: 3 rows share a key; e.g. sale_id=S1",
        "sales: key (sale_id) is null in 1 candidate rows",
    ]


def test_duplicated_and_null_keys_in_published_are_counted_not_problems():
    published = sales(["S1", "S1", None, "S2"], [1.0, 2.0, 3.0, 4.0])
    candidate = sales(["S1", "S2"], [1.0, 4.0])

    report = diff_tables(candidate, published, key=["sale_id"])

    keys = report["keys"]
    assert (keys["duplicated_published"], keys["null_published"]) == (2, 1)
    assert (keys["added"], keys["removed"], keys["changed"], keys["unchanged"]) == (0, 0, 0, 1)
    assert problems(report) == []
    assert "2 published rows share a key" in summary_markdown(report)


def test_thresholds_on_changed_and_removed_shares():
    candidate = sales(["S2", "S3", "S4"], [25.0, 30.0, 40.0], ["pending", "completed", "refunded"])
    report = diff_tables(candidate, PUBLISHED, key=["sale_id"])
    assert (report["changed_share"], report["removed_share"]) == (0.5, 0.25)

    assert problems(report, max_changed_share=0.5, max_removed_share=0.25) == []
    assert problems(report, max_changed_share=0.1, max_removed_share=0.2) == [
        "50.00% of the published rows differ (0 added, 1 removed, 1 changed; 4 published), above the allowed 10.00%",
        "25.00% of the published rows are removed (1 of 4), above the allowed 20.00%",
    ]


def test_first_release_has_nothing_to_compare():
    candidate = sales(["S1", "S2", "S2"], [1.0, 2.0, 3.0])

    report = diff_tables(candidate, None, key=["sale_id"], partition_by=["status"], dataset="sales")

    assert report["first_release"] is True
    assert report["rows"] == {
        "candidate": 3,
        "published": None,
        "by_partition": [{"partition": {"status": "completed"}, "candidate": 3, "published": None}],
    }
    assert report["schema"]["columns"][0] == {"column": "sale_id", "type": "string"}
    assert report["keys"]["added"] is None
    assert report["keys"]["duplicated_candidate"] == 2
    assert report["columns"] == []
    assert problems(report, max_changed_share=0.0, max_removed_share=0.0) == [
        "sales: key (sale_id) is not unique in the candidate: 2 rows share a key; e.g. sale_id=S2"
    ]
    assert "nothing published yet" in summary_markdown(report)
    json.dumps(report, allow_nan=False)


def test_rows_by_partition():
    published = pa.table({"sale_id": ["S1", "S2", "S3"], "day": [date(2026, 1, 1), date(2026, 1, 1), None]})
    candidate = pa.table({"sale_id": ["S1", "S2", "S4"], "day": [date(2026, 1, 1), date(2026, 1, 2), None]})

    report = diff_tables(candidate, published, key=["sale_id"], partition_by=["day"])

    assert report["rows"]["by_partition"] == [
        {"partition": {"day": None}, "candidate": 1, "published": 1},
        {"partition": {"day": "2026-01-01"}, "candidate": 1, "published": 2},
        {"partition": {"day": "2026-01-02"}, "candidate": 1, "published": 0},
    ]


def test_composite_key():
    published = pa.table({"region": ["eu", "us", "eu"], "id": [1, 1, 2], "amount": [1.0, 2.0, 3.0]})
    candidate = pa.table({"region": ["us", "eu", "eu", "us"], "id": [1, 1, 3, 2], "amount": [2.0, 1.5, 4.0, 5.0]})

    report = diff_tables(candidate, published, key=["region", "id"])

    keys = report["keys"]
    assert (keys["added"], keys["removed"], keys["changed"], keys["unchanged"]) == (2, 1, 1, 1)
    assert report["samples"]["changed"] == [{"key": {"region": "eu", "id": 1}, "changes": {"amount": [1.0, 1.5]}}]
    assert report["samples"]["removed"] == [{"region": "eu", "id": 2, "amount": 3.0}]
    assert [(r["region"], r["id"]) for r in report["samples"]["added"]] == [("eu", 3), ("us", 2)]


def test_composite_key_duplicates_and_nulls():
    candidate = pa.table({"region": ["eu", "eu", "us", None], "id": [1, 1, 1, 2], "amount": [1.0, 2.0, 3.0, 4.0]})

    report = diff_tables(candidate, candidate, key=["region", "id"])

    assert (report["keys"]["duplicated_candidate"], report["keys"]["null_candidate"]) == (2, 1)
    assert report["keys"]["unchanged"] == 1
    assert "e.g. region=eu, id=1" in problems(report)[0]


@pytest.mark.parametrize(
    ("candidate", "published", "side", "available"),
    [
        (PUBLISHED.drop_columns(["sale_id"]), PUBLISHED, "candidate", "amount, status"),
        (PUBLISHED, PUBLISHED.drop_columns(["sale_id"]), "published", "amount, status"),
    ],
)
def test_a_missing_key_column_is_refused(candidate, published, side, available):
    with pytest.raises(DiffError, match=rf"sales: key column\(s\) sale_id missing from the {side} table.*{available}"):
        diff_tables(candidate, published, key=["sale_id"], dataset="sales")


def test_a_missing_partition_column_is_refused():
    with pytest.raises(DiffError, match="partition column.*day missing from the candidate"):
        diff_tables(PUBLISHED, PUBLISHED, key=["sale_id"], partition_by=["day"])


def test_expected_and_undeclared_changes():
    candidate = sales(["S1", "S2", "S3", "S4"], [11.0, 20.0, 30.0, 40.0], ["completed", "pending", "x", "refunded"])

    report = diff_tables(candidate, PUBLISHED, key=["sale_id"], expected_changes=["amount"])

    assert report["expected_changes"] == ["amount"]
    assert report["undeclared_changes"] == ["status"]
    amount, status = column(report, "amount"), column(report, "status")
    assert (amount["expected_to_change"], amount["undeclared_change"]) == (True, False)
    assert (status["expected_to_change"], status["undeclared_change"]) == (False, True)
    assert problems(report) == []


def test_column_statistics():
    published = pa.table(
        {"id": [1, 2, 3, 4], "n": [1, 2, 2, None], "flag": [True, True, False, None], "kind": ["a", "b", "b", "b"]}
    )
    candidate = pa.table(
        {"id": [1, 2, 3, 4], "n": [1, 5, 2, 2], "flag": [True, True, True, True], "kind": ["a", "a", "c", "b"]}
    )
    candidate = candidate.set_column(3, "kind", candidate["kind"].dictionary_encode())

    report = diff_tables(candidate, published, key=["id"])

    n, flag, kind = column(report, "n"), column(report, "flag"), column(report, "kind")
    assert n["numeric"] == {"min": [1, 1], "max": [2, 5], "mean": [5 / 3, 2.5]}
    assert n["distinct"] == {"published": 2, "candidate": 3}
    assert n["null_rate"] == {"published": 0.25, "candidate": 0.0}
    assert n["top_values"] is None
    assert flag["top_values"] == {"published": [[True, 2], [False, 1]], "candidate": [[True, 4]]}
    assert flag["numeric"] is None
    assert kind["type"] == "dictionary<values=string, indices=int32, ordered=0>"
    assert kind["top_values"] == {"published": [["b", 3], ["a", 1]], "candidate": [["a", 2], ["c", 1], ["b", 1]]}
    assert kind["changed"] == 2


def test_columns_that_cannot_be_compared_are_reported_without_a_match_rate():
    table = pa.table({"id": [1, 2], "tags": [["a"], ["b", "c"]]})

    report = diff_tables(table, table, key=["id"])

    tags = column(report, "tags")
    assert (tags["match_rate"], tags["changed"], tags["distinct"], tags["undeclared_change"]) == (
        None,
        None,
        None,
        False,
    )
    assert report["keys"]["unchanged"] == 2


def test_report_is_json_serialisable():
    published = pa.table(
        {
            "id": [1, 2],
            "day": [date(2026, 1, 1), date(2026, 1, 2)],
            "at": pa.array([datetime(2026, 1, 1, 12, tzinfo=UTC)] * 2, pa.timestamp("us", tz="UTC")),
            "price": pa.array([Decimal("1.10"), Decimal("2.00")], pa.decimal128(5, 2)),
            "ratio": [math.nan, 1.0],
        }
    )
    candidate = pa.table(
        {
            "id": [1, 3],
            "day": [date(2026, 1, 5), date(2026, 1, 2)],
            "at": pa.array([datetime(2026, 1, 2, tzinfo=UTC)] * 2, pa.timestamp("us", tz="UTC")),
            "price": pa.array([Decimal("1.25"), Decimal("2.00")], pa.decimal128(5, 2)),
            "ratio": [2.0, math.inf],
        }
    )

    report = diff_tables(candidate, published, key=["id"], partition_by=["day"])

    text = json.dumps(report, allow_nan=False)
    assert json.loads(text) == report
    assert report["samples"]["changed"] == [
        {
            "key": {"id": 1},
            "changes": {
                "day": ["2026-01-01", "2026-01-05"],
                "at": ["2026-01-01T12:00:00+00:00", "2026-01-02T00:00:00+00:00"],
                "price": ["1.10", "1.25"],
                "ratio": [None, 2.0],
            },
        }
    ]
    assert report["samples"]["added"][0]["ratio"] == "inf"
    assert column(report, "price")["numeric"]["mean"] == ["1.55", "1.63"]  # arrow keeps the scale


def test_summary_markdown_has_the_numbers_and_calls_out_undeclared_changes():
    candidate = sales(["S2", "S3", "S4", "S5"], [25.0, 30.0, 40.0, 50.0], ["pending", "completed", "pending", "new"])
    report = diff_tables(candidate, PUBLISHED, key=["sale_id"], expected_changes=["amount"], dataset="sales")

    text = summary_markdown(report)

    assert text.startswith("#### Data diff: sales (key: `sale_id`)")
    assert "**4** candidate vs **4** published" in text
    assert "**1** added, **1** removed, **2** changed, 1 unchanged" in text
    assert "Schema: unchanged." in text
    assert "⚠️ **Undeclared changes**: `status`" in text
    assert "| `amount` | 66.67% | 1 | mean 25 → 36.25 |" in text
    assert "| `status` ⚠️ | 66.67% | 1 | pending: 1 → 2 |" in text
    assert "- sale_id=S2: amount: 20.0 → 25.0" in text
    assert len(text.splitlines()) <= 40


def test_summary_markdown_limits_the_column_table():
    names = [f"c{i}" for i in range(20)]
    published = pa.table({"id": [1, 2], **{n: [1, 2] for n in names}})
    candidate = pa.table({"id": [1, 2], **{n: [1, 3] for n in names}})

    text = summary_markdown(diff_tables(candidate, published, key=["id"]), max_columns=5)

    assert text.count("| `c") == 5
    assert "… 15 more" in text
    assert len(text.splitlines()) <= 40
