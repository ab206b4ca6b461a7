"""awsglue.gluetypes against AWS's "PySpark extension types" page."""

from __future__ import annotations

import pytest
from awsglue import gluetypes as G
from awsglue._unsupported import NotSupportedLocally
from pyspark.sql import types as T


def test_type_name_is_the_class_name_without_type():
    assert [t.typeName() for t in (G.StringType(), G.LongType(), G.IntegerType(), G.NullType())] == [
        "string",
        "long",
        "integer",
        "null",
    ]
    assert (G.StructType().typeName(), G.ArrayType().typeName(), G.ChoiceType().typeName()) == (
        "struct",
        "array",
        "choice",
    )
    assert G.DoubleType({"a": 1}).jsonValue() == {"dataType": "double", "properties": {"a": 1}}


def test_struct_and_choice_api():
    struct = G.StructType([G.Field("id", G.LongType())])
    struct.add(G.Field("name", G.StringType()))
    assert struct.hasField("name")
    assert struct.hasField(G.Field("id", G.IntegerType()))
    assert struct.getField("id").dataType == G.LongType()
    assert struct.getField("nope") is None
    choice = G.ChoiceType([G.LongType()])
    choice.add(G.StringType())
    choice.merge([G.LongType(), G.DoubleType()])
    assert [c.typeName() for c in choice.choices] == ["long", "string", "double"]
    assert G.DecimalType().jsonValue()["precision"] == 10
    assert G.DecimalType().jsonValue()["scale"] == 2
    assert G.AtomicType.fromJsonValue({"properties": {"x": 1}}).properties == {"x": 1}


def test_from_spark_and_the_printed_tree():
    spark_type = T.StructType(
        [
            T.StructField("seats", T.IntegerType()),
            T.StructField("links", T.ArrayType(T.StructType([T.StructField("url", T.StringType())]))),
            T.StructField("m", T.MapType(T.StringType(), T.DecimalType(5, 2))),
        ]
    )
    assert G.tree_lines(G.from_spark(spark_type)) == [
        "root",
        "|-- seats: int",
        "|-- links: array",
        "|    |-- element: struct",
        "|    |    |-- url: string",
        "|-- m: map",
        "|    |-- value: decimal",
    ]


def test_entity_type_is_not_implemented():
    with pytest.raises(NotSupportedLocally, match="gluetypes.EntityType"):
        G.EntityType("e", G.StringType(), {})
