"""Splitting uploads into lines: whole-file rejection, malformed rows, numbering, markers, gzip,
hostile shapes, and property tests over any bytes."""

from __future__ import annotations

import csv
import gzip
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workloads.glue.raw_files import COLUMNS, MAX_FILE_BYTES, UNEXPECTED, is_data_file, split_file

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


def test_gzip_uploads_read_by_their_magic_bytes_with_or_without_suffix() -> None:
    plain = f"{HEADER}\n{ROW}\n".encode()
    for name in ("f.csv.gz", "f.csv"):
        assert split_file(name, gzip.compress(plain, mtime=0), "csv") == split_file(name, plain, "csv")
    two_members = gzip.compress(f"{HEADER}\n".encode(), mtime=0) + gzip.compress(f"{ROW}\n".encode(), mtime=0)
    assert [line.values[0] for line in split_file("f.csv.gz", two_members, "csv")] == ["T1"]


BROKEN = {
    "truncated": (lambda: gzip.compress(b"x" * 1000, mtime=0)[:-12], "gzip stream is truncated"),
    "corrupt": (lambda: b"\x1f\x8b\x08garbage", "not a valid gzip stream"),
    "inflates-too-far": (
        lambda: gzip.compress(b"\n" * (MAX_FILE_BYTES + 1), mtime=0),
        f"gzip that inflates to more than {MAX_FILE_BYTES} bytes",
    ),
    "too-large": (
        lambda: b"\n" * (MAX_FILE_BYTES + 1),
        f"{MAX_FILE_BYTES + 1} bytes, more than the {MAX_FILE_BYTES}",
    ),
}
"""Broken or oversized uploads, made when their test runs (not at collection, in every worker)."""


@pytest.mark.parametrize("kind", BROKEN)
def test_broken_gzip_and_oversized_files_are_unreadable(kind: str) -> None:
    make, detail = BROKEN[kind]
    (line,) = split_file("f.csv.gz", make(), "csv")
    assert (line.source_line, line.error) == (0, "unreadable_file") and line.detail.startswith(detail)


@pytest.mark.parametrize("inside", ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c"])
def test_only_newline_ends_a_line_so_other_breaks_stay_inside_values(inside: str) -> None:
    row = ROW.replace("P0001", f"P{inside}1")
    document = json.dumps(dict(zip(COLUMNS, row.split(","), strict=True)), ensure_ascii=False)
    csv_lines = split_file("f.csv", f"{HEADER}\r\n{row}\r\n{ROW}\n".encode(), "csv")
    json_lines = split_file("f.jsonl", f"{document}\n{document}".encode(), "json")
    assert [(line.source_line, line.error, line.values[3]) for line in csv_lines] == [
        (2, None, f"P{inside}1"),
        (3, None, "P0001"),
    ]
    assert [(line.source_line, line.error, line.values[3]) for line in json_lines] == [
        (1, None, f"P{inside}1"),
        (2, None, f"P{inside}1"),
    ]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("[" * 100_000, "not JSON: nested too deeply"),
        ('{"a": ' + "9" * 5000 + "}", "not JSON: Exceeds the limit (4300 digits)"),
    ],
)
def test_json_too_deep_or_with_too_many_digits_is_a_malformed_line(text: str, detail: str) -> None:
    (bad, good) = split_file(
        "f.jsonl", f"{text}\n{json.dumps(dict.fromkeys(COLUMNS, 'x'))}\n".encode(), "json"
    )
    assert (bad.source_line, bad.error) == (1, "malformed_row") and bad.detail.startswith(detail)
    assert (good.source_line, good.error) == (2, None)


def test_a_csv_field_over_the_csv_limit_is_a_malformed_line_and_the_rest_is_read() -> None:
    lines = split_file("f.csv", f"{HEADER}\n{ROW.replace('P0001', 'P' * 200_000)}\n{ROW}\n".encode(), "csv")
    assert [(line.source_line, line.error) for line in lines] == [(2, "malformed_row"), (3, None)]
    assert lines[0].detail == "not a CSV row: field larger than field limit (131072)"
    (header,) = split_file("f.csv", f"{'x' * 200_000}\n{ROW}\n".encode(), "csv")
    assert (header.error, header.detail) == (
        "unreadable_file",
        "header is not a CSV row: field larger than field limit (131072)",
    )


# Property tests: whatever the bytes, the splitter answers; and every data line is accounted for.

_FRAGMENTS = st.sampled_from(
    [
        *(
            HEADER,
            ROW,
            ",",
            '"',
            "{",
            "}",
            "[",
            "]",
            ":",
            " ",
            "-",
            "é",
            "null",
            "true",
            "1e999",
            '"sold_at"',
        ),
        *("\n", "\r\n", "\r", "\u2028", "\x85", "\x0c", "\x0b", "\x00", "\ufeff"),
        "[" * 3000,  # deeper than the json module recurses
        "9" * 4400,  # more digits than int() converts
        "p" * 132_000,  # a CSV field over the csv module's limit
    ]
)
_TEXT = st.lists(_FRAGMENTS | st.text(max_size=20), max_size=30).map("".join)


def _data_lines(content: bytes, upload_format: str) -> list[int]:
    """Numbers of the lines that carry data: non-blank, ``\\n``-separated, after a CSV header."""
    lines = content.decode("utf-8-sig").split("\n")
    first = 1 if upload_format == "csv" else 0
    return [number for number, line in enumerate(lines[first:], start=first + 1) if line.strip()]


@settings(max_examples=300)
@given(
    content=st.binary(max_size=300) | _TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")),
    upload_format=st.sampled_from(["csv", "json"]),
    compress=st.booleans(),
)
def test_any_bytes_give_lines_or_one_unreadable_file_and_every_data_line_is_counted(
    content: bytes, upload_format: str, compress: bool
) -> None:
    body = gzip.compress(content, mtime=0) if compress else content
    lines = split_file("f", body, upload_format)
    assert not any((line.detail or "").startswith(UNEXPECTED) for line in lines)
    if lines and lines[0].error == "unreadable_file":
        assert len(lines) == 1 and lines[0].source_line == 0 and lines[0].detail
        return
    assert [line.source_line for line in lines] == _data_lines(content, upload_format)
    file_lines = content.decode("utf-8-sig").split("\n")
    for line in lines:
        assert line.record == file_lines[line.source_line - 1].removesuffix("\r")
        if line.error is None:
            assert len(line.values) == len(COLUMNS) and line.detail is None
        else:
            assert line.error == "malformed_row" and line.detail and line.values == (None,) * len(COLUMNS)


@settings(max_examples=100)
@given(
    rows=st.lists(st.lists(st.text(max_size=12), min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=8)
)
def test_rows_written_by_the_csv_module_come_back_as_their_values(rows: list[list[str]]) -> None:
    """Rows without line breaks inside fields, as a register's CSV writer makes them, read back
    exactly (empty fields as missing); lines that are blank after the header are skipped."""
    rows = [[value.replace("\n", " ").replace("\r", " ") for value in row] for row in rows]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([list(COLUMNS), *rows])
    lines = split_file("f.csv", buffer.getvalue().encode("utf-8", "surrogatepass"), "csv")
    if lines and lines[0].error == "unreadable_file":
        return  # a surrogate or NUL made the file no UTF-8 text
    kept = [row for row in rows if any(value.strip() for value in row) or len(row) > 1]
    assert [line.values for line in lines] == [tuple(value or None for value in row) for row in kept]
