"""Split one uploaded raw file into lines, plain Python (no Spark), so every line keeps its number.

Whatever the bytes, nothing raises: a file is either read line by line or rejected whole with the
reason ``unreadable_file`` (larger than :data:`MAX_FILE_BYTES`, before or after gzip decompression;
a broken gzip stream; not UTF-8 text; empty or binary; or, for CSV, a first line that is not the
expected header). Gzip is recognized by its magic bytes, so ``.csv.gz``, ``.json.gz`` and a
compressed file without that suffix all read. Lines are separated by ``\\n`` with an optional
``\\r`` before it, never by the other characters :meth:`str.splitlines` splits on (U+2028, NEL,
form feed, vertical tab are legal inside JSON strings and CSV fields), so line numbers are the
file's. A line that cannot be split into the expected fields is ``malformed_row`` with a detail: a
CSV row with too many or too few fields or a field over the csv module's size limit, a JSON line
that is not an object with exactly the expected keys, nested too deeply to parse, or with a number
of more digits than Python converts. Blank lines carry no data and are skipped. Quoted line breaks
inside CSV fields are not supported: such a record arrives as malformed rows, never lost.
"""

from __future__ import annotations

import csv
import json
import zlib
from collections.abc import Callable
from fnmatch import fnmatch
from typing import Any, NamedTuple

from workloads.schema import RAW_TRANSACTIONS, TEMPORARY_FILE_PATTERNS

COLUMNS = RAW_TRANSACTIONS["csv"].column_names
MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest upload parsed in memory, compressed or not: a register's day is kilobytes to a few
megabytes, so a larger file is a mistake (an export of months, a video) and is rejected whole."""
GZIP_MAGIC = b"\x1f\x8b"
UNEXPECTED = "cannot be read"
"""First words of the detail of a line or file an unforeseen error stopped (a last resort that keeps
one upload from failing the run; the tests prove the known hostile shapes never reach it)."""
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


class _Unreadable(ValueError):
    """The whole file cannot be read; the message says why."""


def _rejected(path: str, number: int, error: str, detail: str, record: str | None) -> RawLine:
    return RawLine(path, number, (None,) * len(COLUMNS), error, detail, record)


def unreadable(path: str, detail: str) -> RawLine:
    """The single line (numbered 0) that stands for a file rejected whole."""
    return _rejected(path, 0, "unreadable_file", detail, None)


def _csv_fields(text: str) -> list[str]:
    return next(csv.reader([text]), [])


def _csv_line(path: str, number: int, text: str) -> RawLine:
    try:
        fields = _csv_fields(text)
    except csv.Error as error:
        return _rejected(path, number, "malformed_row", f"not a CSV row: {error}", text)
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
    except RecursionError:
        return _rejected(path, number, "malformed_row", "not JSON: nested too deeply", text)
    except ValueError as error:  # an integer of more digits than int() converts
        return _rejected(path, number, "malformed_row", f"not JSON: {error}", text)
    if not isinstance(document, dict) or set(document) != set(COLUMNS):
        keys = sorted(document)[:12] if isinstance(document, dict) else type(document).__name__
        return _rejected(path, number, "malformed_row", f"keys {keys}, expected {list(COLUMNS)}", text)
    try:
        values = tuple(_json_value(document[column]) for column in COLUMNS)
    except TypeError as error:
        return _rejected(
            path, number, "malformed_row", f"a value is a JSON {error}, not text or a number", text
        )
    return RawLine(path, number, values, None, None, text)


def _decompressed(content: bytes) -> bytes:
    """``content``, gunzipped when it starts with the gzip magic bytes (every member of it); at most
    :data:`MAX_FILE_BYTES` come out, so a small file that inflates to gigabytes is refused early."""
    if not content.startswith(GZIP_MAGIC):
        return content
    output, data = bytearray(), content
    try:
        while data:
            stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            output += stream.decompress(data, MAX_FILE_BYTES + 1 - len(output))
            if len(output) > MAX_FILE_BYTES:
                raise _Unreadable(f"gzip that inflates to more than {MAX_FILE_BYTES} bytes")
            if not stream.eof:
                raise _Unreadable("gzip stream is truncated")
            data = stream.unused_data
    except zlib.error as error:
        raise _Unreadable(f"not a valid gzip stream ({error})") from None
    return bytes(output)


def _text_lines(content: bytes) -> list[str]:
    """The file's lines: gunzipped if needed, UTF-8 (a BOM is dropped), split on ``\\n`` only."""
    if len(content) > MAX_FILE_BYTES:
        raise _Unreadable(f"{len(content)} bytes, more than the {MAX_FILE_BYTES} parsed in memory")
    data = _decompressed(content)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _Unreadable(f"not UTF-8 text (byte {error.start})") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if "\x00" in text or not any(line.strip() for line in lines):
        raise _Unreadable("empty or binary file")
    return lines


def _split(path: str, content: bytes, upload_format: str) -> list[RawLine]:
    lines = _text_lines(content)
    parse: Callable[[str, int, str], RawLine] = _json_line
    first = 0
    if upload_format == "csv":
        try:
            header = _csv_fields(lines[0])
        except csv.Error as error:
            raise _Unreadable(f"header is not a CSV row: {error}") from None
        if tuple(header) != COLUMNS:
            raise _Unreadable(f"header {[name[:40] for name in header[:12]]} is not {list(COLUMNS)}")
        parse, first = _csv_line, 1
    return [
        parse(path, number, line)
        for number, line in enumerate(lines[first:], start=first + 1)
        if line.strip()
    ]


def split_file(path: str, content: bytes, upload_format: str) -> list[RawLine]:
    """The lines of one uploaded file (``upload_format`` ``csv`` or ``json``), numbered from 1.

    A rejected file gives a single line numbered 0 with the reason ``unreadable_file``. Never raises.
    """
    try:
        return _split(path, content, upload_format)
    except _Unreadable as why:
        return [unreadable(path, str(why))]
    except Exception as error:  # a last resort: one upload must never fail the whole run
        return [unreadable(path, f"{UNEXPECTED}: {type(error).__name__}: {error}"[:500])]
