"""Splitting uploads into lines: whole-file rejection, malformed rows, numbering, markers."""

from __future__ import annotations

import json

import pytest

from workloads.glue.raw_files import COLUMNS, is_data_file, split_file

HEADER = ",".join(COLUMNS)
ROW = "T1,1,S001,P0001,2026-03-06T10:00:00+01:00,2,3.50,EUR,card"


def test_csv_lines_are_numbered_from_the_header_and_blank_lines_skipped() -> None:
    lines = split_file("f.csv", f"\ufeff{HEADER}\n{ROW}\n\n{ROW.replace('T1', 'T2')}\n".encode(), "csv")
    assert [(line.source_line, line.values[0], line.error) for line in lines] == [
        (2, "T1", None),
        (4, "T2", None),
    ]
    assert lines[0].record == ROW


def test_csv_empty_fields_are_missing_values() -> None:
    (line,) = split_file("f.csv", f"{HEADER}\n{ROW.replace(',card', ',')}\n".encode(), "csv")
    assert line.values[-1] is None and line.error is None


@pytest.mark.parametrize("row", [ROW + ",extra", ROW.rsplit(",", 1)[0], ROW.rsplit(",", 2)[0]])
def test_csv_rows_with_too_many_or_too_few_fields_are_malformed(row: str) -> None:
    (line,) = split_file("f.csv", f"{HEADER}\n{row}\n".encode(), "csv")
    assert line.error == "malformed_row" and line.record == row
    assert line.detail.endswith(f"expected {len(COLUMNS)}")


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe binary", "not UTF-8 text"),
        (b"", "empty or binary file"),
        (b"a\x00b\n", "empty or binary file"),
        (f"{HEADER.upper()}\n{ROW}\n".encode(), "header"),
    ],
)
def test_a_file_that_is_not_the_expected_csv_is_rejected_whole(content: bytes, detail: str) -> None:
    (line,) = split_file("s3://raw/x.csv", content, "csv")
    assert (line.source_file, line.source_line, line.error) == ("s3://raw/x.csv", 0, "unreadable_file")
    assert line.detail.startswith(detail) and line.record is None


def test_json_lines_become_text_values() -> None:
    document = dict(
        zip(COLUMNS, ["T1", 1, "S001", "P1", "2026-03-06T10:00:00Z", 2, 3.5, "EUR", None], strict=True)
    )
    (line,) = split_file("f.jsonl", (json.dumps(document) + "\n").encode(), "json")
    assert line.values == ("T1", "1", "S001", "P1", "2026-03-06T10:00:00Z", "2", "3.5", "EUR", None)
    assert line.source_line == 1 and line.error is None


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('{"transaction_id": "T1"', "not JSON"),
        ("[1, 2]", "keys list"),
        ('{"transaction_id": "T1"}', "keys ['transaction_id']"),
        (json.dumps({key: [1] for key in COLUMNS}), "a value is a JSON list"),
        (json.dumps(dict.fromkeys(COLUMNS, True)), "a value is a JSON bool"),
    ],
)
def test_json_lines_that_are_not_one_flat_object_with_the_columns_are_malformed(
    text: str, detail: str
) -> None:
    (line,) = split_file("f.jsonl", text.encode(), "json")
    assert line.error == "malformed_row" and line.detail.startswith(detail) and line.record == text


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("s3://b/transactions_csv/ingest_date=2026-03-06/S001.csv", True),
        ("s3://b/transactions_csv/ingest_date=2026-03-06/_SUCCESS", False),
        ("s3://b/transactions_csv/ingest_date=2026-03-06/.S001.csv.swp", False),
        ("file:/tmp/x/upload.tmp", False),
        ("s3://b/transactions_csv/ingest_date=2026-03-06_$folder$", False),
        ("s3://b/part-0.csv.crc", False),
    ],
)
def test_markers_and_temporary_files_are_not_data(path: str, data: bool) -> None:
    assert is_data_file(path) is data
