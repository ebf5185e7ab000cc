"""Split one uploaded raw file into lines, plain Python (no Spark), so every line keeps its number.

A file is either read line by line or rejected whole with the reason ``unreadable_file``: not UTF-8
text, empty, or (CSV) a first line that is not the expected header. A line that cannot be split into
the expected fields is ``malformed_row``: a CSV row with too many or too few fields, a JSON line that
is not an object with exactly the expected keys. Blank lines carry no data and are skipped. Quoted
line breaks inside CSV fields are not supported: such a record arrives as malformed rows, never lost.
"""

from __future__ import annotations

import csv
import json
from fnmatch import fnmatch
from typing import Any, NamedTuple

from workloads.schema import RAW_TRANSACTIONS, TEMPORARY_FILE_PATTERNS

COLUMNS = RAW_TRANSACTIONS["csv"].column_names
_NOT_DATA = tuple(pattern.removeprefix("**/") for pattern in TEMPORARY_FILE_PATTERNS)


def is_data_file(path: str) -> bool:
    """False for markers, hidden and temporary files (:data:`TEMPORARY_FILE_PATTERNS`)."""
    name = path.rsplit("/", 1)[-1]
    return not any(fnmatch(name, pattern) for pattern in _NOT_DATA)


class RawLine(NamedTuple):
    """One line of an uploaded file: the values as text, or why they could not be read."""

    source_file: str
    source_line: int
    values: tuple[str | None, ...]
    error: str | None
    detail: str | None
    record: str | None


def _rejected(path: str, number: int, error: str, detail: str, record: str | None) -> RawLine:
    return RawLine(path, number, (None,) * len(COLUMNS), error, detail, record)


def _csv_line(path: str, number: int, text: str) -> RawLine:
    (fields,) = csv.reader([text])
    if len(fields) != len(COLUMNS):
        return _rejected(
            path, number, "malformed_row", f"{len(fields)} fields, expected {len(COLUMNS)}", text
        )
    return RawLine(path, number, tuple(field or None for field in fields), None, None, text)


def _json_value(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(type(value).__name__)
    return str(value)


def _json_line(path: str, number: int, text: str) -> RawLine:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return _rejected(path, number, "malformed_row", f"not JSON: {error.msg}", text)
    if not isinstance(document, dict) or set(document) != set(COLUMNS):
        keys = sorted(document) if isinstance(document, dict) else type(document).__name__
        return _rejected(path, number, "malformed_row", f"keys {keys}, expected {list(COLUMNS)}", text)
    try:
        values = tuple(_json_value(document[column]) for column in COLUMNS)
    except TypeError as error:
        return _rejected(
            path, number, "malformed_row", f"a value is a JSON {error}, not text or a number", text
        )
    return RawLine(path, number, values, None, None, text)


def split_file(path: str, content: bytes, upload_format: str) -> list[RawLine]:
    """The lines of one uploaded file (``upload_format`` ``csv`` or ``json``), numbered from 1.

    A rejected file gives a single line numbered 0 with the reason ``unreadable_file``.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return [_rejected(path, 0, "unreadable_file", f"not UTF-8 text (byte {error.start})", None)]
    lines = text.splitlines()
    if "\x00" in text or not any(line.strip() for line in lines):
        return [_rejected(path, 0, "unreadable_file", "empty or binary file", None)]
    if upload_format == "csv":
        (header,) = csv.reader([lines[0]])
        if tuple(header) != COLUMNS:
            return [
                _rejected(path, 0, "unreadable_file", f"header {header[:12]} is not {list(COLUMNS)}", None)
            ]
        parse, first = _csv_line, 1
    else:
        parse, first = _json_line, 0
    return [
        parse(path, number, line)
        for number, line in enumerate(lines[first:], start=first + 1)
        if line.strip()
    ]
