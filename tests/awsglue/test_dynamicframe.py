"""The local DynamicFrame against the schemas and rows of AWS's documented examples.

Sources (AWS Glue developer guide): the DynamicFrame class page, the medicaid sample
("Data preparation using ResolveChoice, Lambda, and ApplyMapping"), the legislators sample
("Joining and relationalizing data"), the transform pages (DropFields, Join, RenameField,
SelectFromCollection, SplitFields, SplitRows) and the Scala DynamicFrame page.
"""

from __future__ import annotations

import json

import pytest
from awsglue._unsupported import NotSupportedLocally
from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection, ErrorThresholdExceeded, ResolveOption
from pyspark.sql import types as T

MEDICARE_SCHEMA = (
    "`drg definition` string, `provider id` string, `provider name` string, `provider street address` string, "
    "`provider city` string, `provider state` string, `provider zip code` bigint, "
    "`hospital referral region description` string, `total discharges` bigint, ACC string, ATP string, AMP string"
)
MEDICARE_ROWS = [
    ("039 - EXTRACRANIAL PROCEDURES W/O CC/MCC", "10001", "SOUTHEAST ALABAMA MEDICAL CENTER", "1108 ROSS CLARK CIRCLE",
     "DOTHAN", "AL", 36301, "AL - Dothan", 91, "32963.07", "5777.24", "4763.73"),
    ("039 - EXTRACRANIAL PROCEDURES W/O CC/MCC", "10005", "MARSHALL MEDICAL CENTER SOUTH", "2505 U S HIGHWAY 431 NORTH",
     "BOAZ", "AL", 35957, "AL - Birmingham", 14, "15131.85", "5787.57", "4976.71"),
    ("948 - SIGNS & SYMPTOMS W/O MCC", "INC", "HESS MEMORIAL HOSPITAL", "1050 DIVISION ST",
     "MAUSTON", "WI", 53948, "WI - Madison", 12, "11961.41", "4619.00", "3775.33"),
    ("948 - SIGNS & SYMPTOMS W/O MCC", "INC- ST JOSEPH", "ST JOSEPHS HOSPITAL", "5000 W CHAMBERS ST",
     "MILWAUKEE", "WI", 53210, "WI - Milwaukee", 14, "10514.28", "5562.50", "4522.78"),
]  # fmt: skip


@pytest.fixture(scope="module")
def medicare(spark):
    """The medicare frame as the catalog read gives it: ``provider id`` is choice(long, string)."""
    df = spark.createDataFrame(MEDICARE_ROWS, MEDICARE_SCHEMA).cache()
    return DynamicFrame(df, None, "medicare", {"provider id": ("long", "string")})


def printed(frame, capsys) -> list[str]:
    frame.printSchema()
    return capsys.readouterr().out.splitlines()


def columns(frame) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in frame.toDF().schema.fields]


# -- choice types: printSchema, schema(), resolveChoice, toDF ------------------------------------


def test_print_schema_shows_a_choice_as_the_medicaid_sample_does(medicare, capsys):
    assert printed(medicare, capsys)[:6] == [
        "root",
        "|-- drg definition: string",
        "|-- provider id: choice",
        "|    |-- long",
        "|    |-- string",
        "|-- provider name: string",
    ]


def test_schema_gives_glue_types(medicare):
    fields = {f.name: f.dataType for f in medicare.schema().fields}
    assert fields["provider id"].typeName() == "choice"
    assert [c.typeName() for c in fields["provider id"].choices] == ["long", "string"]
    assert fields["provider zip code"].typeName() == "long"
    assert fields["drg definition"].typeName() == "string"


def test_resolve_choice_cast_long_nulls_the_strings(medicare, capsys):
    resolved = medicare.resolveChoice(specs=[("provider id", "cast:long")])
    assert printed(resolved, capsys)[2] == "|-- provider id: long"
    ids = [r["provider id"] for r in resolved.toDF().collect()]
    assert ids == [10001, 10005, None, None]


def test_resolve_choice_make_cols_project_and_make_struct(medicare):
    cols = medicare.resolveChoice(choice="make_cols").toDF()
    assert cols.columns[1:3] == ["provider id_long", "provider id_string"]
    assert [tuple(r)[1:3] for r in cols.collect()] == [
        (10001, None),
        (10005, None),
        (None, "INC"),
        (None, "INC- ST JOSEPH"),
    ]
    projected = medicare.resolveChoice(specs=[("provider id", "project:string")]).toDF()
    assert [r["provider id"] for r in projected.collect()] == [None, None, "INC", "INC- ST JOSEPH"]
    struct = medicare.resolveChoice(specs=[("provider id", "make_struct")]).toDF()
    assert struct.schema["provider id"].dataType.simpleString() == "struct<long:bigint,string:string>"


def test_to_df_turns_a_choice_into_a_struct_of_its_types(medicare):
    df = medicare.toDF()
    assert df.schema["provider id"].dataType.simpleString() == "struct<long:bigint,string:string>"
    assert [tuple(r["provider id"]) for r in df.collect()] == [
        (10001, None),
        (10005, None),
        (None, "INC"),
        (None, "INC- ST JOSEPH"),
    ]
    projected = medicare.toDF([ResolveOption("provider id", "Project", T.LongType())])
    assert projected.schema["provider id"].dataType == T.LongType()


def test_match_catalog_casts_choices_to_the_catalog_types(spark, medicare):
    class Catalog:
        spark_session = spark

        def catalog_columns(self, database, table_name, catalog_id=None):
            assert (database, table_name) == ("payments", "medicare")
            return [("drg definition", "string"), ("provider id", "bigint")]

    frame = DynamicFrame(medicare._df, Catalog(), "m", medicare._choices)
    resolved = frame.resolveChoice(choice="match_catalog", database="payments", table_name="medicare")
    assert resolved.toDF().schema["provider id"].dataType == T.LongType()
    with pytest.raises(ValueError, match="database and table_name"):
        frame.resolveChoice(choice="match_catalog")


def test_resolve_choice_rejects_bad_specs(medicare):
    with pytest.raises(ValueError, match=r"\('provider id', 'cast:nothing'\)"):
        medicare.resolveChoice(specs=[("provider id", "cast:nothing")])
    with pytest.raises(ValueError, match="not both"):
        medicare.resolveChoice(specs=[("provider id", "make_cols")], choice="make_cols")
    with pytest.raises(NotSupportedLocally, match="DynamicFrame.resolveChoice"):
        medicare.resolveChoice()


def test_cast_on_a_non_choice_field_casts_it(spark):
    df = spark.createDataFrame([("1", ("2.5",))], "a string, s struct<b:string>")
    frame = DynamicFrame(df, None).resolveChoice(specs=[("a", "cast:int"), ("s.b", "cast:double")])
    assert columns(frame) == [("a", "int"), ("s", "struct<b:double>")]


# -- apply_mapping ------------------------------------------------------------------------------


def test_apply_mapping_nests_and_casts_as_in_the_medicaid_sample(medicare, capsys):
    frame = medicare.resolveChoice(specs=[("provider id", "cast:long")])
    nested = frame.apply_mapping(
        [
            ("drg definition", "string", "drg", "string"),
            ("provider id", "long", "provider.id", "long"),
            ("provider name", "string", "provider.name", "string"),
            ("provider city", "string", "provider.city", "string"),
            ("provider state", "string", "provider.state", "string"),
            ("provider zip code", "long", "provider.zip", "long"),
            ("hospital referral region description", "string", "rr", "string"),
            ("ACC", "string", "charges.covered", "double"),
            ("ATP", "string", "charges.total_pay", "double"),
            ("AMP", "string", "charges.medicare_pay", "double"),
        ]
    )
    assert printed(nested, capsys) == [
        "root",
        "|-- drg: string",
        "|-- provider: struct",
        "|    |-- id: long",
        "|    |-- name: string",
        "|    |-- city: string",
        "|    |-- state: string",
        "|    |-- zip: long",
        "|-- rr: string",
        "|-- charges: struct",
        "|    |-- covered: double",
        "|    |-- total_pay: double",
        "|    |-- medicare_pay: double",
    ]
    first = nested.toDF().first()
    assert tuple(first["provider"]) == (10001, "SOUTHEAST ALABAMA MEDICAL CENTER", "DOTHAN", "AL", 36301)
    assert first["rr"] == "AL - Dothan"
    assert tuple(first["charges"]) == (32963.07, 5777.24, 4763.73)


def test_apply_mapping_renames_with_backticks_and_mixed_case_types(spark):
    df = spark.createDataFrame([("Ross", "1944-10-15", "x")], "`this.old.name` string, birth_date string, other string")
    frame = DynamicFrame(df, None).apply_mapping(
        [("`this.old.name`", "String", "last_name", "String"), ("birth_date", "String", "date_of_birth", "Date")]
    )
    assert columns(frame) == [("last_name", "string"), ("date_of_birth", "date")]
    assert str(frame.toDF().first()["date_of_birth"]) == "1944-10-15"


def test_apply_mapping_unnests_and_renests_as_the_scala_page_shows(spark):
    df = spark.createDataFrame(
        [("Sally", 36, ("NE", 68102))], "name string, age int, address struct<state:string,zip:int>"
    )
    flat = DynamicFrame(df, None).apply_mapping(
        [
            ("name", "string", "name", "string"),
            ("age", "int", "age", "int"),
            ("address.state", "string", "state", "string"),
            ("address.zip", "int", "zip", "int"),
        ]
    )
    assert columns(flat) == [("name", "string"), ("age", "int"), ("state", "string"), ("zip", "int")]
    renested = flat.apply_mapping(
        [
            ("name", "string", "name", "string"),
            ("age", "int", "age", "int"),
            ("state", "string", "address.state", "string"),
            ("zip", "int", "address.zip", "int"),
        ]
    )
    assert columns(renested) == columns(DynamicFrame(df, None))


def test_apply_mapping_two_and_three_tuples_map_to_a_target_keeping_or_casting_the_type(spark):
    df = spark.createDataFrame([("S1", "10", 2)], "id string, amount string, n int")
    frame = DynamicFrame(df, None).apply_mapping([("id", "sale.id"), ("amount", "sale.amount", "double"), ("n", "n")])
    assert columns(frame) == [("sale", "struct<id:string,amount:double>"), ("n", "int")]
    assert frame.toDF().first().asDict(recursive=True) == {"sale": {"id": "S1", "amount": 10.0}, "n": 2}


def test_apply_mapping_case_sensitivity(medicare):
    mapping = [("Provider Name", "string", "name", "string")]
    assert medicare.apply_mapping(mapping).toDF().columns == ["name"]
    assert medicare.apply_mapping(mapping, case_sensitive=True).toDF().columns == []


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (("drg definition", "string", "drg", "string", "extra"), "is not a tuple of strings: \\(source path, "),
        (("drg definition",), "is not a tuple of strings"),
        ("drg definition", "is not a tuple of strings"),
        (("drg definition", "drg", "text"), "unknown type 'text'"),
        (("drg definition", "string", "drg", "text"), "unknown type 'text'"),
        (("drg definition", "string", "`drg", "string"), "unbalanced backtick"),
    ],
)
def test_apply_mapping_names_a_malformed_mapping(medicare, mapping, message):
    with pytest.raises(ValueError, match=message) as error:
        medicare.apply_mapping([mapping])
    assert repr(mapping) in str(error.value)


def test_apply_mapping_rejects_two_mappings_to_one_target(medicare):
    mappings = [("drg definition", "string", "x", "string"), ("provider name", "string", "x.y", "string")]
    with pytest.raises(ValueError, match="x"):
        medicare.apply_mapping(mappings)


# -- select, drop, rename, unnest ---------------------------------------------------------------

DROP_FIELDS_SCHEMA = (
    "name string, age int, location struct<state:string,county:string>, friends array<struct<name:string,age:int>>"
)
DROP_FIELDS_ROWS = [
    ("Sally", 23, ("WY", "Fremont"), []),
    ("Varun", 34, ("NE", "Douglas"), [("Arjun", 3)]),
    ("George", 52, ("NY", None), [("Fred", None), ("Amy", 15)]),
    ("Haruki", 21, ("AK", "Denali"), None),
    ("Sheila", 63, None, [("Nancy", 22)]),
]


@pytest.fixture(scope="module")
def people(spark):
    """The dataset of AWS's DropFields examples."""
    return DynamicFrame(spark.createDataFrame(DROP_FIELDS_ROWS, DROP_FIELDS_SCHEMA).cache(), None, "people")


def test_drop_fields_top_level_nested_and_in_arrays_as_the_dropfields_page_shows(people, capsys):
    assert printed(people.drop_fields(["age"]), capsys) == [
        "root",
        "|-- name: string",
        "|-- location: struct",
        "|    |-- state: string",
        "|    |-- county: string",
        "|-- friends: array",
        "|    |-- element: struct",
        "|    |    |-- name: string",
        "|    |    |-- age: int",
    ]
    no_county = people.drop_fields(["location.county"])
    assert columns(no_county)[2] == ("location", "struct<state:string>")
    assert [r["location"] for r in no_county.toDF().collect()][3:] == [("AK",), None]
    no_friend_age = people.drop_fields(["friends.age"]).toDF().collect()
    assert [r["friends"] for r in no_friend_age] == [[], [("Arjun",)], [("Fred",), ("Amy",)], None, [("Nancy",)]]


def test_dropping_the_last_fields_of_a_struct_drops_the_struct(people):
    frame = people.drop_fields(["location.state", "location.county"])
    assert [name for name, _ in columns(frame)] == ["name", "age", "friends"]


def test_select_fields_keeps_top_level_and_nested_fields(people):
    frame = people.select_fields(["location.state", "name"])
    assert columns(frame) == [("name", "string"), ("location", "struct<state:string>")]
    assert people.select_fields("age").toDF().columns == ["age"]


def test_rename_field_nested_in_arrays_and_moved(people):
    renamed = people.rename_field("location.state", "location.state_code")
    assert columns(renamed)[2] == ("location", "struct<state_code:string,county:string>")
    in_array = people.rename_field("friends.name", "friends.friend")
    assert columns(in_array)[3] == ("friends", "array<struct<friend:string,age:int>>")
    moved = people.rename_field("location.state", "state")
    assert columns(moved)[2:] == [
        ("location", "struct<county:string>"),
        ("friends", columns(people)[3][1]),
        ("state", "string"),
    ]
    assert [r["state"] for r in moved.toDF().collect()] == ["WY", "NE", "NY", "AK", None]
    assert people.rename_field("nothing", "x").toDF().columns == people.toDF().columns


def test_unnest_flattens_structs_with_dotted_names(spark, capsys):
    df = spark.createDataFrame(
        [("Sally", 36, ("NE", "Omaha"))], "name string, age int, address struct<state:string,city:string>"
    )
    assert printed(DynamicFrame(df, None).unnest(), capsys) == [
        "root",
        "|-- name: string",
        "|-- age: int",
        "|-- address.state: string",
        "|-- address.city: string",
    ]


# -- join, relationalize ------------------------------------------------------------------------

ORDERS = [
    (75091, [("108 Park Street, TX", 623), ("763 Marsh Ln, TX", 231)]),
    (75023, [("66 P Street, NY", 343)]),
    (90093, [("708 Fed Ln, CA", 932), ("807 Deccan Dr, CA", 102)]),
]


@pytest.fixture(scope="module")
def relationalized(spark):
    df = spark.createDataFrame(ORDERS, "zip int, customers array<struct<address:string,id:int>>")
    return DynamicFrame(df.select("customers", "zip"), None, "orders").relationalize("root", "/tmp/unused")


def test_relationalize_as_the_selectfromcollection_example_shows(relationalized):
    assert list(relationalized.keys()) == ["root", "root_customers"]
    root = relationalized.select("root").toDF()
    assert [tuple(r) for r in root.collect()] == [(1, 75091), (2, 75023), (3, 90093)]
    customers = relationalized.select("root_customers")
    assert columns(customers) == [
        ("id", "bigint"),
        ("index", "int"),
        ("customers.val.address", "string"),
        ("customers.val.id", "int"),
    ]
    assert sorted(tuple(r) for r in customers.toDF().collect()) == [
        (1, 0, "108 Park Street, TX", 623),
        (1, 1, "763 Marsh Ln, TX", 231),
        (2, 0, "66 P Street, NY", 343),
        (3, 0, "708 Fed Ln, CA", 932),
        (3, 1, "807 Deccan Dr, CA", 102),
    ]


def test_rename_field_with_backticks_as_the_renamefield_example_shows(relationalized):
    frame = relationalized.select("root_customers")
    frame = frame.rename_field("`customers.val.address`", "address").rename_field("`customers.val.id`", "cust_id")
    frame = frame.drop_fields(["index", "id"])
    assert frame.toDF().columns == ["address", "cust_id"]
    assert frame.toDF().where("cust_id = 343").first()["address"] == "66 P Street, NY"


def test_relationalize_legislators_history(spark):
    schema = (
        "id string, given_name string, family_name string, org struct<name:string,seats:int>, "
        "contact_details array<struct<type:string,value:string>>, links array<struct<note:string,url:string>>, "
        "tags array<string>, nested array<struct<n:int,values:array<string>>>"
    )
    rows = [
        ("f4fc30ee", "Mike", "Ross", ("House", 435), [("fax", "202-225-1314"), ("phone", "202-225-3772")],
         None, ["a", "b"], [(1, ["x", "y"])]),
        ("e3c60f34", "Shelley", "Capito", ("Senate", 100), [("twitter", "SenCapito")], [("website", "http://x")],
         [], None),
    ]  # fmt: skip
    dfc = DynamicFrame(spark.createDataFrame(rows, schema), None, "l_history").relationalize("hist_root", "s3://tmp/")
    assert list(dfc.keys()) == [
        "hist_root",
        "hist_root_contact_details",
        "hist_root_links",
        "hist_root_tags",
        "hist_root_nested",
        "hist_root_nested.val.values",
    ]
    root = dfc.select("hist_root")
    assert columns(root) == [
        ("id", "string"),
        ("given_name", "string"),
        ("family_name", "string"),
        ("org.name", "string"),
        ("org.seats", "int"),
        ("contact_details", "bigint"),
        ("links", "bigint"),
        ("tags", "bigint"),
        ("nested", "bigint"),
    ]
    contacts = dfc.select("hist_root_contact_details")
    assert columns(contacts) == [
        ("id", "bigint"),
        ("index", "int"),
        ("contact_details.val.type", "string"),
        ("contact_details.val.value", "string"),
    ]
    root_rows = {r["given_name"]: r for r in root.toDF().collect()}
    assert root_rows["Mike"]["links"] is None
    by_key = sorted(tuple(r) for r in contacts.toDF().collect())
    mike, shelley = root_rows["Mike"]["contact_details"], root_rows["Shelley"]["contact_details"]
    assert by_key == sorted(
        [
            (mike, 0, "fax", "202-225-1314"),
            (mike, 1, "phone", "202-225-3772"),
            (shelley, 0, "twitter", "SenCapito"),
        ]
    )
    assert columns(dfc.select("hist_root_tags"))[2] == ("tags.val", "string")
    assert columns(dfc.select("hist_root_nested")) == [
        ("id", "bigint"),
        ("index", "int"),
        ("nested.val.n", "int"),
        ("nested.val.values", "bigint"),
    ]
    values = dfc.select("hist_root_nested.val.values").toDF().collect()
    assert [(r["index"], r["nested.val.values.val"]) for r in values] == [(0, "x"), (1, "y")]


def test_join_keeps_both_keys_and_prefixes_a_shared_name(spark, relationalized):
    persons = DynamicFrame(spark.createDataFrame([("p1", "Mike"), ("p2", "Ann")], "id string, name string"), None)
    memberships = DynamicFrame(
        spark.createDataFrame([("p1", "senate"), ("p1", "house")], "person_id string, org string"), None
    )
    history = persons.join(["id"], ["person_id"], memberships)
    assert sorted(tuple(r) for r in history.toDF().collect()) == [
        ("p1", "Mike", "p1", "house"),
        ("p1", "Mike", "p1", "senate"),
    ]
    zips = DynamicFrame(spark.createDataFrame([(75091,), (75023,), (90093,)], "zip int"), None)
    joined = relationalized.select("root").join("zip", "zip", zips)
    assert joined.toDF().columns == ["customers", ".zip", "zip"]
    assert sorted(tuple(r) for r in joined.toDF().collect()) == [
        (1, 75091, 75091),
        (2, 75023, 75023),
        (3, 90093, 90093),
    ]


# -- map, filter and error records --------------------------------------------------------------


def test_map_merges_fields_into_a_struct_as_the_map_example_does(medicare, capsys):
    def merge_address(rec):
        rec["Address"] = {}
        rec["Address"]["Street"] = rec["provider street address"]
        rec["Address"]["City"] = rec["provider city"]
        rec["Address"]["Zip.Code"] = rec["provider zip code"]
        rec["Address"]["Array"] = [rec["provider street address"], rec["provider zip code"]]
        del rec["provider street address"]
        del rec["provider city"]
        del rec["provider zip code"]
        return rec

    mapped = medicare.map(f=merge_address)
    assert printed(mapped, capsys) == [
        "root",
        "|-- drg definition: string",
        "|-- provider id: choice",
        "|    |-- long",
        "|    |-- string",
        "|-- provider name: string",
        "|-- provider state: string",
        "|-- hospital referral region description: string",
        "|-- total discharges: long",
        "|-- ACC: string",
        "|-- ATP: string",
        "|-- AMP: string",
        "|-- Address: struct",
        "|    |-- Street: string",
        "|    |-- City: string",
        "|    |-- Zip.Code: long",
        "|    |-- Array: array",
        "|    |    |-- element: string",
    ]
    first = mapped.toDF().first()
    assert first["Address"]["Array"] == ["1108 ROSS CLARK CIRCLE", "36301"]
    assert tuple(first["provider id"]) == (10001, None)
    assert mapped.errorsCount() == 0


def test_map_keeps_input_types_and_infers_new_fields(people):
    def older(rec):
        rec["age"] = rec["age"] + 1
        rec["tags"] = {"n": len(rec.get("friends") or []), "score": 0.5}
        return rec

    frame = people.map(older)
    assert columns(frame)[1] == ("age", "int")
    assert columns(frame)[-1] == ("tags", "struct<n:bigint,score:double>")
    assert [r["age"] for r in frame.toDF().collect()] == [24, 35, 53, 22, 64]


def test_map_with_incompatible_field_types_is_a_clear_error(people):
    with pytest.raises(ValueError, match=r"incompatible types: 'x' \(long, string\)"):
        people.map(lambda rec: {"x": rec["name"] if rec["age"] > 30 else 1})


def test_map_errors_become_error_records_and_thresholds_raise(people):
    def fail_on_old(rec):
        if rec["age"] > 50:
            raise ValueError(f"too old: {rec['name']}")
        return rec

    frame = people.map(fail_on_old, info="ages")
    assert frame.count() == 3
    assert (frame.errorsCount(), frame.stageErrorsCount()) == (2, 2)
    errors = frame.errorsAsDynamicFrame().toDF().collect()
    assert sorted(e["error"]["msg"] for e in errors) == ["ValueError: too old: George", "ValueError: too old: Sheila"]
    first = errors[0]["error"]
    assert (first["transformation"], first["info"]) == ("Map", "ages")
    assert "Traceback" in first["stackTrace"]
    assert json.loads(first["input"])["name"] in ("George", "Sheila")

    later = frame.select_fields(["name"])
    assert (later.errorsCount(), later.stageErrorsCount()) == (2, 0)
    with pytest.raises(ErrorThresholdExceeded, match="totalThreshold 1"):
        frame.select_fields(["name"], totalThreshold=1)
    with pytest.raises(ErrorThresholdExceeded, match="stageThreshold 1"):
        people.map(fail_on_old, stageThreshold=1)


def test_filter_on_records_and_its_errors(people):
    wyoming = people.filter(lambda x: x["name"] in ["Sally"] and x["location"]["state"] in ["WY"])
    assert [r["name"] for r in wyoming.toDF().collect()] == ["Sally"]
    assert wyoming.errorsCount() == 0
    failing = people.filter(lambda x: x["location"]["state"] != "NY")
    assert [r["name"] for r in failing.toDF().collect()] == ["Sally", "Varun", "Haruki"]
    assert failing.errorsCount() == 1
    assert "TypeError" in failing.errorsAsDynamicFrame().toDF().first()["error"]["msg"]


def test_map_and_filter_see_choice_values_typed(medicare):
    numeric = medicare.filter(lambda rec: isinstance(rec["provider id"], int))
    assert numeric.count() == 2
    assert numeric._choices == medicare._choices


# -- the rest of the API ------------------------------------------------------------------------


def test_show_prints_json_records(people, capsys):
    people.show(2)
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"name": "Sally", "age": 23, "location": {"state": "WY", "county": "Fremont"}, "friends": []},
        {
            "name": "Varun",
            "age": 34,
            "location": {"state": "NE", "county": "Douglas"},
            "friends": [{"name": "Arjun", "age": 3}],
        },
    ]


def test_partitions_and_counts(people):
    assert people.count() == 5
    assert people.repartition(3).getNumPartitions() == 3
    assert people.coalesce(1).getNumPartitions() == 1
    assert DynamicFrame.fromDF(people.toDF(), None, "copy").name == "copy"


def test_split_fields_and_split_rows(spark):
    df = spark.createDataFrame(
        [("TX_WAREHOUSE", 220, 560, 350), ("CA_WAREHOUSE", 34, 123, 42), ("CO_WAREHOUSE", 340, 180, 2)],
        "warehouse_loc string, `data.strawberry` int, `data.pineapple` int, `data.mango` int",
    )
    frame = DynamicFrame(df, None, "inventory")
    split = frame.split_fields(["`data.strawberry`", "`data.pineapple`"], "a", "b")
    assert split.select("a").toDF().columns == ["data.strawberry", "data.pineapple"]
    assert split.select("b").toDF().columns == ["warehouse_loc", "data.mango"]
    rows = frame.split_rows({"`data.pineapple`": {">": "100", "<": "200"}}, "pa_200_less", "pa_200_more")
    assert [r["warehouse_loc"] for r in rows.select("pa_200_less").toDF().collect()] == ["CA_WAREHOUSE", "CO_WAREHOUSE"]
    assert [r["warehouse_loc"] for r in rows.select("pa_200_more").toDF().collect()] == ["TX_WAREHOUSE"]
    with pytest.raises(ValueError, match="unknown comparison '~'"):
        frame.split_rows({"warehouse_loc": {"~": "x"}}, "a", "b")


def test_merge_dynamic_frame_prefers_staging_records(spark):
    source = DynamicFrame(spark.createDataFrame([(1, "a"), (2, "b"), (2, "b2")], "id int, v string"), None)
    stage = DynamicFrame(
        spark.createDataFrame([(2, "B", True), (3, "C", False)], "id int, v string, new boolean"), None
    )
    merged = source.mergeDynamicFrame(stage, ["id"])
    assert sorted(tuple(r) for r in merged.toDF().collect()) == [(1, "a", None), (2, "B", True), (3, "C", False)]


def test_spigot_writes_sample_records(people, tmp_path):
    assert people.spigot(str(tmp_path / "sample"), {"topk": 2}) is not people
    lines = [line for f in (tmp_path / "sample").glob("part-*") for line in f.read_text().splitlines()]
    assert len(lines) == 2


def test_collection_api(people):
    dfc = people.split_fields(["name"], "names", "rest")
    assert isinstance(dfc, DynamicFrameCollection)
    assert (len(dfc), list(dfc)) == (2, ["names", "rest"])
    assert [dfc["names"], dfc["rest"]] == list(dfc.values())
    counted = dfc.map(lambda frame, ctx: frame.select_fields(frame.toDF().columns[:1]), "ctx")
    assert [f.toDF().columns for f in counted.values()] == [["name"], ["age"]]
    flat = dfc.flatmap(lambda frame: frame.split_fields(frame.toDF().columns[:1], frame.name + "_1", frame.name + "_2"))
    assert list(flat.keys()) == ["names_1", "names_2", "rest_1", "rest_2"]
    with pytest.raises(KeyError, match="no frame 'x'"):
        dfc.select("x")


def test_a_call_not_implemented_locally_says_so(people):
    with pytest.raises(NotSupportedLocally) as error:
        people.unbox("name", "json")
    assert str(error.value) == (
        "DynamicFrame.unbox is not supported by the local awsglue runtime (local_runtime/awsglue); it runs on "
        "AWS Glue. See https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-crawler-pyspark-extensions-dynamic-frame.html"
    )
    assert isinstance(error.value, NotImplementedError)
    with pytest.raises(NotSupportedLocally, match="s3:// destination"):
        people.spigot("s3://bucket/sample")


def test_constructor_checks_choice_columns(spark):
    df = spark.createDataFrame([(1,)], "a int")
    with pytest.raises(ValueError, match="choice column 'a' must be a string column"):
        DynamicFrame(df, None, "x", {"a": ("long", "string")})
    with pytest.raises(TypeError, match="wraps a pyspark.sql.DataFrame"):
        DynamicFrame([1], None)


def test_field_transforms_stay_a_single_projection(medicare):
    """No RDD pass and no Python UDF: the pipeline costs what the same select would."""
    frame = (
        medicare.resolveChoice(specs=[("provider id", "cast:long")])
        .rename_field("provider name", "name")
        .drop_fields(["ACC"])
        .select_fields(["name", "provider id", "provider city", "ATP"])
        .apply_mapping([("name", "string", "n.name", "string"), ("ATP", "string", "atp", "double")])
        .unnest()
    )
    plan = frame.toDF()._jdf.queryExecution().optimizedPlan().toString()
    assert "LogicalRDD" not in plan  # the source is cached: an InMemoryRelation
    assert "Python" not in plan
    assert plan.count("Project") == 1
