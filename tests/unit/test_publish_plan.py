"""Generations, publish plans and restore plans: pure logic, no AWS."""

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from glue_cicd import generations, publish

GEN1, GEN2, GEN3 = "20261120T080000-aaaaaa", "20261124T080000-bbbbbb", "20261125T080000-cccccc"
BASE = "s3://data/curated/sales/"


def desired(generation: str, *, partitioned: bool = True, columns=None) -> dict:
    return publish.table_input(
        "clean_sales",
        columns=columns or [{"Name": "sale_id", "Type": "string"}],
        partition_keys=[{"Name": "processed_date", "Type": "date"}] if partitioned else [],
        location=BASE if partitioned else generations.generation_uri(BASE, generation),
        fmt="parquet",
        generation=generation,
        version="v1",
    )


def live(table_input: dict, version_id: str = "1") -> dict:
    """The table as GetTable returns it."""
    return {**table_input, "DatabaseName": "db", "CreateTime": "2026-11-20", "VersionId": version_id}


def test_a_generation_is_the_same_for_a_run_and_new_for_another_or_once_cleared():
    when = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    first = generations.generation_id("release__x/manual__1", when)
    assert first == generations.generation_id("release__x/manual__1", when)  # a retried task
    assert first != generations.generation_id("release__x/manual__2", when)
    # A cleared run may have published its first generation: it writes a new one.
    assert first != generations.generation_id("release__x/manual__1", when, clear_number=1)
    assert first.startswith("20261125T093000-")
    uri = generations.generation_uri(BASE, first)
    assert uri == f"{BASE}_gen={first}/"
    assert generations.generation_of(uri + "processed_date=2026-11-25/") == first
    assert generations.generation_of(BASE) is None


def test_retention_keeps_what_is_kept_and_what_is_young():
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert generations.expired([GEN1, GEN2, GEN3], keep={GEN1}, keep_days=3, now=now) == []
    assert generations.expired([GEN1, GEN2, GEN3], keep={GEN3}, keep_days=0.5, now=now) == [GEN1, GEN2]


def test_arrow_types_become_glue_types():
    schema = pa.schema(
        [
            ("s", pa.string()),
            ("i", pa.int32()),
            ("l", pa.int64()),
            ("d", pa.float64()),
            ("dt", pa.date32()),
            ("ts", pa.timestamp("us", tz="UTC")),
            ("m", pa.decimal128(10, 2)),
            ("b", pa.bool_()),
            ("a", pa.list_(pa.string())),
            ("st", pa.struct([("x", pa.int64())])),
        ]
    )
    columns, keys = publish.columns_of(schema, ["dt"])
    assert [c["Type"] for c in columns] == [
        "string", "int", "bigint", "double", "timestamp", "decimal(10,2)", "boolean", "array<string>",
        "struct<x:bigint>",
    ]  # fmt: skip
    assert keys == [{"Name": "dt", "Type": "date"}]


def test_first_publish_creates_and_points_each_written_partition_at_the_generation():
    plan = publish.plan_publish(
        database="db", table="clean_sales", generation=GEN2, current=None, desired=desired(GEN2),
        written=[["2026-11-24"], ["2026-11-25"]], current_partitions={},
    )  # fmt: skip
    assert plan.table_before is None
    assert plan.partitions == {
        "2026-11-24": [None, f"{BASE}_gen={GEN2}/processed_date=2026-11-24/"],
        "2026-11-25": [None, f"{BASE}_gen={GEN2}/processed_date=2026-11-25/"],
    }
    assert publish.PublishPlan.from_dict(plan.to_dict()) == plan


def test_a_table_changed_since_the_diff_is_refused_unless_it_is_already_this_publish():
    current = live(desired(GEN1), version_id="7")
    with pytest.raises(publish.ConcurrentChangeError, match="changed since the release compared against it"):
        publish.plan_publish(
            database="db", table="clean_sales", generation=GEN2, current=current, desired=desired(GEN2),
            written=[], current_partitions={}, expected_version="6",
        )  # fmt: skip
    done = live(desired(GEN2), version_id="8")  # a retry after the publish went through
    plan = publish.plan_publish(
        database="db", table="clean_sales", generation=GEN2, current=done, desired=desired(GEN2),
        written=[], current_partitions={}, expected_version="7",
    )  # fmt: skip
    assert not plan.changes_table(done)


def test_restore_undoes_later_publishes_back_to_the_oldest_before_image():
    p2 = publish.plan_publish(
        database="db", table="clean_sales", generation=GEN2, current=live(desired(GEN1)), desired=desired(GEN2),
        written=[["2026-11-24"]], current_partitions={"2026-11-24": f"{BASE}_gen={GEN1}/processed_date=2026-11-24/"},
    ).to_dict()  # fmt: skip
    p3 = publish.plan_publish(
        database="db", table="clean_sales", generation=GEN3, current=live(desired(GEN2)), desired=desired(GEN3),
        written=[["2026-11-24"], ["2026-11-25"]],
        current_partitions={"2026-11-24": f"{BASE}_gen={GEN2}/processed_date=2026-11-24/"},
    ).to_dict()  # fmt: skip
    now = {k: after for k, (_, after) in p3["partitions"].items()}

    undo = publish.plan_restore([p3, p2], current=live(desired(GEN3)), current_partitions=now)

    assert undo.partitions == {
        "2026-11-24": [now["2026-11-24"], f"{BASE}_gen={GEN1}/processed_date=2026-11-24/"],
        "2026-11-25": [now["2026-11-25"], None],  # did not exist before: dropped
    }
    assert undo.table_after["Parameters"]["glue_cicd.generation"] == GEN1


def test_restore_re_applies_the_target_release_after_undoing_the_later_ones():
    p2 = publish.plan_publish(
        database="db", table="clean_sales", generation=GEN2, current=None, desired=desired(GEN2, partitioned=False),
        written=[], current_partitions={},
    ).to_dict()  # fmt: skip
    p3 = publish.plan_publish(
        database="db", table="clean_sales", generation=GEN3, current=live(desired(GEN2, partitioned=False)),
        desired=desired(GEN3, partitioned=False), written=[], current_partitions={},
    ).to_dict()  # fmt: skip

    back_to_2 = publish.plan_restore(
        [p3], target=p2, current=live(desired(GEN3, partitioned=False)), current_partitions={}
    )
    assert back_to_2.table_after["StorageDescriptor"]["Location"] == generations.generation_uri(BASE, GEN2)

    before_any = publish.plan_restore([p3, p2], current=live(desired(GEN3, partitioned=False)), current_partitions={})
    assert before_any.table_after is None  # the table did not exist before the first publish


def test_published_locations_pair_each_partition_with_its_values():
    table = desired(GEN2)
    locations = {"2026-11-25": "s3://b/x/_gen=2/processed_date=2026-11-25/", "2026-11-24": "s3://b/x/_gen=1/p/"}
    assert publish.published_locations(table, locations) == [
        ("s3://b/x/_gen=1/p/", {"processed_date": "2026-11-24"}),
        ("s3://b/x/_gen=2/processed_date=2026-11-25/", {"processed_date": "2026-11-25"}),
    ]
    flat = desired(GEN2, partitioned=False)
    assert publish.published_locations(flat, {}) == [(generations.generation_uri(BASE, GEN2), {})]


def test_an_interrupted_publish_resumes_only_if_the_table_is_as_it_left_it():
    stored = publish.plan_publish(
        database="db", table="clean_sales", generation=GEN2, current=live(desired(GEN1), version_id="3"),
        desired=desired(GEN2), written=[["2026-11-25"]], current_partitions={},
    ).to_dict()  # fmt: skip
    # The failed attempt restored the before-image: the version moved on, the content did not.
    resumed = publish.PublishPlan.from_dict(stored).resume(live(desired(GEN1), version_id="5"))
    assert resumed.version_id == "5"
    other = desired(GEN3)
    with pytest.raises(publish.ConcurrentChangeError, match="changed since this publish began"):
        publish.PublishPlan.from_dict(stored).resume(live(other, version_id="6"))
