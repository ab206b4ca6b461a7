"""Validate newly landed raw sales files: an S3 event notification in, one report per file out."""

from __future__ import annotations

import csv
import io
import os
from urllib.parse import unquote_plus

import boto3


class NoFilesError(ValueError):
    """The event names no S3 object."""


def files_of(event: dict) -> list[tuple[str, str]]:
    """The (bucket, key) pairs of an S3 event notification's records."""
    records = event.get("Records") or []
    files = [(r["s3"]["bucket"]["name"], unquote_plus(r["s3"]["object"]["key"])) for r in records if "s3" in r]
    if not files:
        raise NoFilesError("the event holds no S3 records (Records[].s3.bucket.name, Records[].s3.object.key)")
    return files


def report(key: str, text: str, expected: list[str], max_incomplete: float) -> dict:
    """What is wrong with one CSV file's text: its header, and its rows without sale_id or amount."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    problems = []
    if header != expected:
        problems.append(f"header {','.join(header) or '(none)'} is not {','.join(expected)}")
        return {"key": key, "rows": 0, "incomplete": 0, "valid": False, "problems": problems}
    sale_id, amount = header.index("sale_id"), header.index("amount")
    rows = incomplete = 0
    for row in reader:
        rows += 1
        if len(row) != len(header) or not row[sale_id].strip() or not row[amount].strip():
            incomplete += 1
    if rows == 0:
        problems.append("no rows")
    elif incomplete / rows > max_incomplete:
        problems.append(f"{incomplete} of {rows} rows lack a sale_id or an amount (over {max_incomplete:.0%})")
    return {"key": key, "rows": rows, "incomplete": incomplete, "valid": not problems, "problems": problems}


def handle(event: dict, context) -> dict:
    expected = os.environ["EXPECTED_COLUMNS"].split(",")
    max_incomplete = float(os.environ["MAX_INCOMPLETE_SHARE"])
    s3 = boto3.client("s3")
    reports = []
    for bucket, key in files_of(event):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        reports.append(report(key, body, expected, max_incomplete))
    print(f"{sum(r['valid'] for r in reports)} of {len(reports)} files valid")
    return {"valid": all(r["valid"] for r in reports), "files": reports}
