"""What the checks job is given: suites with Spark type names, and a package it can import on Glue."""

from __future__ import annotations

import ast
import io
import zipfile

from glue_cicd.hooks.checks_job import MODULES, package
from glue_cicd.quality import suite_json
from glue_cicd.spark_checks import for_spark

SPARK_COLUMNS = {
    "sale_id": "StringType",
    "amount": "DoubleType",
    "sold_at": "TimestampType",
    "sale_date": "DateType",
    "processed_date": "TimestampNTZType",
}


def test_pandas_type_names_become_the_spark_types_of_the_same_values():
    suite = {
        "name": "s",
        "expectations": [
            {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": c, "type_": t}}
            for c, t in [
                ("sale_id", "str"),
                ("amount", "float64"),
                ("sold_at", "Timestamp"),
                ("sale_date", "datetime64"),
                ("processed_date", "datetime64"),
                ("amount", "int64"),
                ("amount", "DecimalType"),
            ]  # fmt: skip
        ]
        + [{"type": "expect_column_values_to_be_in_type_list", "kwargs": {"column": "amount", "type_list": ["int64"]}}],
    }

    expectations = for_spark(suite, SPARK_COLUMNS)["expectations"]
    translated = [e["kwargs"].get("type_") or e["kwargs"]["type_list"] for e in expectations]

    assert translated == [
        "StringType", "DoubleType", "TimestampType", "DateType", "TimestampNTZType",
        "LongType",  # a double column checked as int64 still fails, as in pandas
        "DecimalType",  # a Spark name passes through
        ["LongType"],
    ]  # fmt: skip
    assert suite["expectations"][0]["kwargs"]["type_"] == "str"  # the suite itself is not changed


def test_the_example_suites_translate_for_spark_whole():
    for name in ("clean_sales", "daily_sales", "customer_daily_spend"):
        suite = suite_json(name)
        assert len(for_spark(suite, {})["expectations"]) == len(suite["expectations"])


def test_the_checks_job_package_is_reproducible_and_needs_no_airflow():
    script, libs, sha = package()
    assert package() == (script, libs, sha)
    with zipfile.ZipFile(io.BytesIO(libs)) as archive:
        names = archive.namelist()
        assert names == [f"glue_cicd/{m}" for m in MODULES]
        for name in names:
            imported = {
                alias.name if isinstance(node, ast.Import) else node.module or ""
                for node in ast.walk(ast.parse(archive.read(name)))
                if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in getattr(node, "names", [])
            }
            assert not [m for m in imported if m.split(".")[0] == "airflow"], name  # Glue has no Airflow
            assert {m for m in imported if m.startswith("glue_cicd.")} <= {f"glue_cicd.{m[:-3]}" for m in MODULES}
    assert b"from glue_cicd.spark_checks import run_check" in script
