"""validate_raw_sales's logic, without AWS."""

import pytest
from handler import NoFilesError, files_of, report

COLUMNS = ["sale_id", "customer_id", "product_id", "amount", "status", "sold_at"]
HEADER = ",".join(COLUMNS)


def test_files_of_an_s3_event_with_url_encoded_keys():
    event = {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "raw/sales/day+1.csv"}}}]}
    assert files_of(event) == [("b", "raw/sales/day 1.csv")]


def test_an_event_without_s3_records_is_an_error():
    with pytest.raises(NoFilesError):
        files_of({"detail": {}})


def test_a_complete_file_is_valid():
    text = f"{HEADER}\nS1,C1,P1,10.5,completed,2026-11-01T00:00:00Z\n"
    assert report("k", text, COLUMNS, 0.05) == {"key": "k", "rows": 1, "incomplete": 0, "valid": True, "problems": []}


def test_incomplete_rows_above_the_share_and_a_wrong_header_are_reported():
    text = f"{HEADER}\nS1,C1,P1,,completed,\n,C2,P2,3,completed,\nS3,C3,P3,4,completed,\n"
    result = report("k", text, COLUMNS, 0.5)
    assert result["incomplete"] == 2
    assert not result["valid"]
    assert "2 of 3 rows" in result["problems"][0]
    wrong = report("k", "id,amount\n1,2\n", COLUMNS, 0.5)
    assert not wrong["valid"]
    assert wrong["problems"][0].startswith("header id,amount")


def test_a_file_without_rows_is_invalid():
    assert report("k", f"{HEADER}\n", COLUMNS, 0.05)["problems"] == ["no rows"]
