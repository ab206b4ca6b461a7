"""awsglue.transforms: the documented ``apply`` signatures, delegating to DynamicFrame."""

from __future__ import annotations

import pytest
from awsglue._unsupported import NotSupportedLocally
from awsglue.dynamicframe import DynamicFrame
from awsglue.transforms import *  # noqa: F403 - as Glue scripts import them
from awsglue.transforms import __all__ as TRANSFORMS


@pytest.fixture(scope="module")
def orders(spark):
    df = spark.createDataFrame(
        [(75091, "TX", None, [("108 Park Street, TX", 623)]), (75023, "NY", None, [("66 P Street, NY", 343)])],
        "zip int, `the.state` string, nothing string, customers array<struct<address:string,id:int>>",
    )
    return DynamicFrame(df.cache(), None, "orders", None)


def names(frame):
    return frame.toDF().columns


def test_star_import_gives_every_transform():
    scope = {}
    exec("from awsglue.transforms import *", scope)
    assert set(TRANSFORMS) <= set(scope)
    assert {"ApplyMapping", "DropFields", "Relationalize", "ResolveChoice", "SelectFromCollection"} <= set(scope)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_describe(name):
    transform = globals()[name]
    if name == "GlueTransform":
        with pytest.raises(NotImplementedError):
            transform.describe()
        return
    described = transform.describe()["transform"]
    assert described["name"] == name
    assert described["location"] == "internal"
    assert described["returns"]["type"] in ("DynamicFrame", "DynamicFrameCollection")
    assert all({"name", "type", "description", "optional", "defaultValue"} <= set(a) for a in described["args"])
    assert transform.describeTransform()


def test_apply_mapping_describe_args():
    args = {a["name"]: a for a in ApplyMapping.describeArgs()}  # noqa: F405
    assert list(args) == ["frame", "mappings", "transformation_ctx", "info", "stageThreshold", "totalThreshold"]
    assert args["frame"]["optional"] is False
    assert (args["stageThreshold"]["optional"], args["stageThreshold"]["defaultValue"]) == (True, "0")


def test_field_transforms_with_documented_keywords(orders):
    mapped = ApplyMapping.apply(  # noqa: F405
        frame=orders,
        mappings=[("zip", "int", "zip_code", "string"), ("`the.state`", "string", "state", "string")],
        transformation_ctx="map",
        info="",
        stageThreshold=0,
        totalThreshold=0,
    )
    assert names(mapped) == ["zip_code", "state"]
    assert names(DropFields.apply(frame=orders, paths="`the.state`")) == ["zip", "nothing", "customers"]  # noqa: F405
    assert names(SelectFields.apply(frame=orders, paths=["zip"])) == ["zip"]  # noqa: F405
    renamed = RenameField.apply(frame=orders, old_name="`the.state`", new_name="state")  # noqa: F405
    assert names(renamed) == ["zip", "state", "nothing", "customers"]
    resolved = ResolveChoice.apply(frame=orders, specs=[("zip", "cast:string")])  # noqa: F405
    assert resolved.toDF().schema["zip"].dataType.simpleString() == "string"
    assert names(UnnestFrame.apply(frame=RenameField.apply(orders, "zip", "z"))) == [  # noqa: F405
        "z",
        "the.state",
        "nothing",
        "customers",
    ]


def test_drop_null_fields_drops_fields_null_in_every_record(spark):
    df = spark.createDataFrame(
        [(1, None, (None, "a")), (2, None, (None, None))], "id int, empty string, s struct<gone:string,kept:string>"
    ).selectExpr("*", "NULL AS null_typed")
    frame = DropNullFields.apply(frame=DynamicFrame(df, None))  # noqa: F405
    assert [(f.name, f.dataType.simpleString()) for f in frame.toDF().schema.fields] == [
        ("id", "int"),
        ("s", "struct<kept:string>"),
    ]


def test_collection_transforms(orders):
    dfc = Relationalize.apply(frame=orders, staging_path="/tmp/unused", name="root")  # noqa: F405
    assert list(dfc.keys()) == ["root", "root_customers"]
    assert SelectFromCollection.apply(dfc=dfc, key="root") is dfc.select("root")  # noqa: F405
    selected = MapToCollection.apply(dfc, SelectFields, "frame", paths=["id"])  # noqa: F405
    assert [names(f) for f in selected.values()] == [[], ["id"]]
    split = FlatMap.apply(dfc, SplitFields, "frame", paths=["id"])  # noqa: F405
    assert list(split.keys()) == ["root1", "root2", "root_customers1", "root_customers2"]
    fields = SplitFields.apply(frame=orders, paths=["zip"])  # noqa: F405
    assert list(fields.keys()) == ["orders1", "orders2"]
    rows = SplitRows.apply(frame=orders, comparison_dict={"zip": {"<": 75050}})  # noqa: F405
    assert list(rows.keys()) == ["frame1", "frame2"]


def test_record_transforms_and_errors(orders):
    kept = Filter.apply(frame=orders, f=lambda rec: rec["zip"] > 75050)  # noqa: F405
    assert kept.count() == 1
    mapped = Map.apply(frame=orders, f=lambda rec: {"zip": rec["zip"] // rec["nothing"]})  # noqa: F405
    assert mapped.errorsCount() == 2
    assert names(ErrorsAsDynamicFrame.apply(mapped)) == ["error"]  # noqa: F405
    joined = Join.apply(orders, SelectFields.apply(orders, ["zip"]), "zip", "zip")  # noqa: F405
    assert names(joined) == [".zip", "the.state", "nothing", "customers", "zip"]


def test_unbox_is_not_supported_locally(orders):
    with pytest.raises(NotSupportedLocally, match="Unbox is not supported by the local awsglue runtime"):
        Unbox.apply(frame=orders, path="nothing", format="json")  # noqa: F405
