"""The emulator's Glue Data Catalog over HTTP, as the publish step relies on it: the stack's
databases, ``UpdateTable`` guarded by ``VersionId``, table versions, partitions in batches."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from botocore.exceptions import ClientError

from dev.emulator import TEMPLATE

ACCOUNT = "123456789012"


class _CfnLoader(yaml.SafeLoader):
    """Reads a CloudFormation short-form tag as its argument (``!Sub "a-${B}"`` -> ``"a-${B}"``)."""


def _tag_argument(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_CfnLoader.add_multi_constructor("!", _tag_argument)


@pytest.fixture
def glue(aws):
    return aws("glue")


@pytest.fixture
def database(glue):
    """A database of this test's own."""
    name = f"catalog_{uuid.uuid4().hex[:12]}"
    glue.create_database(DatabaseInput={"Name": name})
    return name


def table_input(location: str, *, keys: tuple[str, ...] = ()) -> dict:
    return {
        "Name": "sales",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {"Columns": [{"Name": "amount", "Type": "double"}], "Location": location},
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in keys],
    }


def partition(day: str, generation: str) -> dict:
    return {
        "Values": [day],
        "StorageDescriptor": {"Location": f"s3://data/sales/_gen={generation}/processed_date={day}/"},
    }


def days(count: int) -> list[str]:
    return [f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(count)]


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def partitioned(glue, database):
    """A table partitioned by ``processed_date``; returns its database."""
    glue.create_table(DatabaseName=database, TableInput=table_input("s3://data/sales/", keys=("processed_date",)))
    return database


def create_partitions(glue, database: str, values: list[str], generation: str = "g1") -> None:
    for start in range(0, len(values), 100):
        chunk = [partition(day, generation) for day in values[start : start + 100]]
        assert "Errors" not in glue.batch_create_partition(
            DatabaseName=database, TableName="sales", PartitionInputList=chunk
        )


def location(glue, database: str, day: str) -> str:
    found = glue.get_partition(DatabaseName=database, TableName="sales", PartitionValues=[day])
    return found["Partition"]["StorageDescriptor"]["Location"]


# -- the stack ---------------------------------------------------------------------------------


def test_the_stack_creates_a_database_per_environment_and_the_shadow_role(aws):
    stack = aws("cloudformation").describe_stacks(StackName="glue-cicd")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["StagingDatabase"] == "glue_cicd_staging"
    assert outputs["ProdDatabase"] == "glue_cicd_prod"
    assert outputs["GlueShadowRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/glue-cicd-glue-shadow-role"
    assert outputs["GlueChecksRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/glue-cicd-glue-checks-role"
    for name in ("glue_cicd_staging", "glue_cicd_prod"):
        assert aws("glue").get_database(Name=name)["Database"]["Name"] == name

    iam = aws("iam")
    role = iam.get_role(RoleName="glue-cicd-glue-shadow-role")["Role"]
    assert "glue.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
    assert iam.list_attached_role_policies(RoleName="glue-cicd-glue-shadow-role")["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName="glue-cicd-glue-shadow-role")["PolicyNames"] == ["glue-shadow-run"]


def test_the_shadow_role_writes_only_generations_and_only_reads_the_catalog():
    """Read from the template: moto's CloudFormation keeps inline role policies as Python reprs."""
    role = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)["Resources"]["GlueShadowRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    statements = {s["Sid"]: s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]}
    generations = statements["WriteGenerationsOnly"]["Resource"]
    assert len(generations) == 2
    assert all(arn.endswith("/*/_gen=*") for arn in generations)
    assert sorted(statements["NoWritesOutsideGenerations"]["NotResource"]) == sorted(generations)
    allowed = {
        (action, resource)
        for s in statements.values()
        if s["Effect"] == "Allow"
        for action in _as_list(s["Action"])
        for resource in _as_list(s["Resource"])
    }
    writes = {(a, r) for a, r in allowed if a in ("s3:PutObject", "s3:DeleteObject")}
    assert {r for _, r in writes} == set(generations)
    assert {a for a, _ in allowed if a.startswith("glue:")} == {
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:BatchGetPartition",
    }
    denied = statements["NoCatalogChanges"]
    assert (denied["Effect"], denied["Resource"]) == ("Deny", "*")
    assert {"glue:Update*", "glue:BatchUpdate*", "glue:Create*", "glue:Delete*"} <= set(denied["Action"])


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# -- tables and versions -----------------------------------------------------------------------


def test_a_new_table_is_at_version_0(glue, database):
    glue.create_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g1/"))
    assert glue.get_table(DatabaseName=database, Name="sales")["Table"]["VersionId"] == "0"


def test_update_with_the_current_version_succeeds_and_advances_it(glue, database):
    glue.create_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g1/"))
    current = glue.get_table(DatabaseName=database, Name="sales")["Table"]["VersionId"]

    glue.update_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g2/"), VersionId=current)

    table = glue.get_table(DatabaseName=database, Name="sales")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://data/sales/_gen=g2/"
    assert int(table["VersionId"]) == int(current) + 1


def test_update_with_a_stale_version_is_refused_and_changes_nothing(glue, database):
    glue.create_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g1/"))
    read = glue.get_table(DatabaseName=database, Name="sales")["Table"]["VersionId"]
    glue.update_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g2/"), VersionId=read)

    with pytest.raises(ClientError) as excinfo:
        glue.update_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g3/"), VersionId=read)

    assert error_code(excinfo) == "ConcurrentModificationException"
    assert "concurrent modifications" in excinfo.value.response["Error"]["Message"]
    table = glue.get_table(DatabaseName=database, Name="sales")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://data/sales/_gen=g2/"
    assert table["VersionId"] == "1"
    assert len(glue.get_table_versions(DatabaseName=database, TableName="sales")["TableVersions"]) == 2


def test_of_concurrent_updates_from_one_version_exactly_one_wins(glue, database):
    glue.create_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g0/"))

    def publish(generation: int) -> str:
        try:
            glue.update_table(
                DatabaseName=database, TableInput=table_input(f"s3://data/sales/_gen={generation}/"), VersionId="0"
            )
            return "published"
        except ClientError as exc:
            return exc.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(publish, range(8)))

    assert sorted(outcomes) == ["ConcurrentModificationException"] * 7 + ["published"]
    assert glue.get_table(DatabaseName=database, Name="sales")["Table"]["VersionId"] == "1"


def test_table_versions_list_each_version_with_its_location_newest_first(glue, database):
    glue.create_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g1/"))
    for version, generation in enumerate(("g2", "g3")):
        glue.update_table(
            DatabaseName=database,
            TableInput=table_input(f"s3://data/sales/_gen={generation}/"),
            VersionId=str(version),
        )

    versions = glue.get_table_versions(DatabaseName=database, TableName="sales")["TableVersions"]
    assert [(v["VersionId"], v["Table"]["StorageDescriptor"]["Location"]) for v in versions] == [
        ("2", "s3://data/sales/_gen=g3/"),
        ("1", "s3://data/sales/_gen=g2/"),
        ("0", "s3://data/sales/_gen=g1/"),
    ]
    assert all(v["Table"]["VersionId"] == v["VersionId"] for v in versions)

    pages = glue.get_paginator("get_table_versions").paginate(
        DatabaseName=database, TableName="sales", PaginationConfig={"PageSize": 2}
    )
    assert [[v["VersionId"] for v in page["TableVersions"]] for page in pages] == [["2", "1"], ["0"]]


def test_skip_archive_advances_the_version_but_keeps_no_copy_of_the_replaced_one(glue, database):
    glue.create_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g1/"))
    glue.update_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g2/"), VersionId="0")

    glue.update_table(
        DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g3/"), VersionId="1", SkipArchive=True
    )

    assert glue.get_table(DatabaseName=database, Name="sales")["Table"]["VersionId"] == "2"
    versions = glue.get_table_versions(DatabaseName=database, TableName="sales")["TableVersions"]
    assert [v["VersionId"] for v in versions] == ["2", "0"]


def test_delete_table(glue, database):
    glue.create_table(DatabaseName=database, TableInput=table_input("s3://data/sales/_gen=g1/"))
    glue.delete_table(DatabaseName=database, Name="sales")
    with pytest.raises(ClientError) as excinfo:
        glue.get_table(DatabaseName=database, Name="sales")
    assert error_code(excinfo) == "EntityNotFoundException"


# -- partitions --------------------------------------------------------------------------------


def test_partitions_come_back_in_pages(glue, partitioned):
    create_partitions(glue, partitioned, days(250))

    first = glue.get_partitions(DatabaseName=partitioned, TableName="sales", MaxResults=100)
    assert len(first["Partitions"]) == 100
    assert first["NextToken"]
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName=partitioned, TableName="sales", PaginationConfig={"PageSize": 100}
    )
    sizes = [len(page["Partitions"]) for page in pages]
    assert sizes == [100, 100, 50]
    everything = glue.get_partitions(DatabaseName=partitioned, TableName="sales")
    assert sorted(p["Values"][0] for p in everything["Partitions"]) == sorted(days(250))
    assert "NextToken" not in everything

    day = days(250)[42]
    filtered = glue.get_partitions(DatabaseName=partitioned, TableName="sales", Expression=f"processed_date = '{day}'")
    assert [p["Values"] for p in filtered["Partitions"]] == [[day]]


def test_batch_update_moves_locations_and_reports_a_missing_partition_without_failing_the_others(glue, partitioned):
    create_partitions(glue, partitioned, days(3))
    entries = [{"PartitionValueList": [d], "PartitionInput": partition(d, "g2")} for d in [*days(3), "2030-01-01"]]

    result = glue.batch_update_partition(DatabaseName=partitioned, TableName="sales", Entries=entries)

    assert result["Errors"] == [
        {
            "PartitionValueList": ["2030-01-01"],
            "ErrorDetail": {"ErrorCode": "EntityNotFoundException", "ErrorMessage": "Cannot find partition."},
        }
    ]
    assert [location(glue, partitioned, d) for d in days(3)] == [
        f"s3://data/sales/_gen=g2/processed_date={d}/" for d in days(3)
    ]


def test_moving_a_partition_onto_existing_values_fails_alone_and_loses_nothing(glue, partitioned):
    first, second, third = days(3)
    create_partitions(glue, partitioned, [first, second, third])
    entries = [
        {"PartitionValueList": [first], "PartitionInput": partition(second, "g2")},
        {"PartitionValueList": [third], "PartitionInput": partition(third, "g2")},
    ]

    result = glue.batch_update_partition(DatabaseName=partitioned, TableName="sales", Entries=entries)

    assert [(e["PartitionValueList"], e["ErrorDetail"]["ErrorCode"]) for e in result["Errors"]] == [
        ([first], "AlreadyExistsException")
    ]
    assert location(glue, partitioned, first) == f"s3://data/sales/_gen=g1/processed_date={first}/"
    assert location(glue, partitioned, second) == f"s3://data/sales/_gen=g1/processed_date={second}/"
    assert location(glue, partitioned, third) == f"s3://data/sales/_gen=g2/processed_date={third}/"


def test_update_partition_keeps_its_creation_time(glue, partitioned):
    day = days(1)[0]
    create_partitions(glue, partitioned, [day])
    created = glue.get_partition(DatabaseName=partitioned, TableName="sales", PartitionValues=[day])["Partition"]

    glue.update_partition(
        DatabaseName=partitioned, TableName="sales", PartitionValueList=[day], PartitionInput=partition(day, "g2")
    )

    updated = glue.get_partition(DatabaseName=partitioned, TableName="sales", PartitionValues=[day])["Partition"]
    assert updated["StorageDescriptor"]["Location"] == f"s3://data/sales/_gen=g2/processed_date={day}/"
    assert updated["CreationTime"] == created["CreationTime"]


@pytest.mark.parametrize(
    ("call", "member", "limit"),
    [
        ("batch_create_partition", "PartitionInputList", 100),
        ("batch_update_partition", "Entries", 100),
        ("batch_delete_partition", "PartitionsToDelete", 25),
        ("batch_get_partition", "PartitionsToGet", 1000),
    ],
)
def test_batches_over_aws_limits_are_refused_and_change_nothing(glue, partitioned, call, member, limit):
    values = days(limit + 1)
    create_partitions(glue, partitioned, values[:limit])
    items = {
        "PartitionInputList": [partition(d, "g2") for d in values],
        "Entries": [{"PartitionValueList": [d], "PartitionInput": partition(d, "g2")} for d in values],
        "PartitionsToDelete": [{"Values": [d]} for d in values],
        "PartitionsToGet": [{"Values": [d]} for d in values],
    }[member]

    with pytest.raises(ClientError) as excinfo:
        getattr(glue, call)(DatabaseName=partitioned, TableName="sales", **{member: items})

    assert error_code(excinfo) == "ValidationException"
    assert f"less than or equal to {limit}" in excinfo.value.response["Error"]["Message"]
    listed = glue.get_paginator("get_partitions").paginate(DatabaseName=partitioned, TableName="sales")
    assert {p["StorageDescriptor"]["Location"] for page in listed for p in page["Partitions"]} == {
        f"s3://data/sales/_gen=g1/processed_date={d}/" for d in values[:limit]
    }
    # At the limit, the same call is accepted.
    getattr(glue, call)(DatabaseName=partitioned, TableName="sales", **{member: items[:limit]})


def test_a_page_larger_than_aws_allows_is_refused(glue, partitioned):
    with pytest.raises(ClientError) as excinfo:
        glue.get_partitions(DatabaseName=partitioned, TableName="sales", MaxResults=1001)
    assert error_code(excinfo) == "ValidationException"


def test_partition_values_must_match_the_partition_keys(glue, partitioned):
    wrong = {"Values": ["2026-01-01", "extra"], "StorageDescriptor": {"Location": "s3://data/sales/x/"}}
    for call, kwargs in [
        ("create_partition", {"PartitionInput": wrong}),
        ("batch_create_partition", {"PartitionInputList": [partition("2026-01-02", "g1"), wrong]}),
    ]:
        with pytest.raises(ClientError) as excinfo:
            getattr(glue, call)(DatabaseName=partitioned, TableName="sales", **kwargs)
        assert error_code(excinfo) == "InvalidInputException"
        assert "number of partition keys" in excinfo.value.response["Error"]["Message"]
    assert glue.get_partitions(DatabaseName=partitioned, TableName="sales")["Partitions"] == []


def test_batch_get_and_batch_delete(glue, partitioned):
    create_partitions(glue, partitioned, days(30))
    wanted = [{"Values": [d]} for d in days(3)] + [{"Values": ["2030-01-01"]}]

    got = glue.batch_get_partition(DatabaseName=partitioned, TableName="sales", PartitionsToGet=wanted)
    assert sorted(p["Values"][0] for p in got["Partitions"]) == days(3)

    result = glue.batch_delete_partition(
        DatabaseName=partitioned, TableName="sales", PartitionsToDelete=[{"Values": [d]} for d in days(25)]
    )
    assert "Errors" not in result
    left = glue.get_partitions(DatabaseName=partitioned, TableName="sales")["Partitions"]
    assert sorted(p["Values"][0] for p in left) == days(30)[25:]

    result = glue.batch_delete_partition(
        DatabaseName=partitioned, TableName="sales", PartitionsToDelete=[{"Values": [days(30)[25]]}, wanted[-1]]
    )
    assert [e["PartitionValues"] for e in result["Errors"]] == [["2030-01-01"]]
    glue.delete_partition(DatabaseName=partitioned, TableName="sales", PartitionValues=[days(30)[26]])
    with pytest.raises(ClientError) as excinfo:
        glue.get_partition(DatabaseName=partitioned, TableName="sales", PartitionValues=[days(30)[26]])
    assert error_code(excinfo) == "EntityNotFoundException"
