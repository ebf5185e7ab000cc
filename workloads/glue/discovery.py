"""Which ingest days a run of the ETL job takes, decided from the S3 paths of the uploads.

With ``--ingest_dates new`` the Glue entry script reads each upload prefix with the job bookmark and
Glue's ``attachFilename`` connection option, which adds the path of each record's file as the column
:data:`UPLOAD_FILE`; :func:`upload_files` collects those paths and :func:`discover` maps them to
days. A path under ``…/ingest_date=YYYY-MM-DD/`` gives that day. Any other path (no such folder, or
a day that does not exist, such as ``2026-02-30``) is *stray*: the run goes on without it and logs
one :data:`STRAY_UPLOAD` line per file, which the job's alarm counts. The file stays in the raw
zone; moved into a valid folder it has a new key, which the next run takes.

A record without a path, or with one that is not a full object path (``s3://bucket/key``, a local
``file:///…`` or ``/…``; Glue's documentation does not say whether ``attachFilename`` holds the
full path or only the file name), means the discovery itself did not work: :func:`discover`
raises, so the job fails before ``job.commit()`` and the bookmark keeps the uploads for the next
run instead of skipping them for good as stray.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stacks import this module at synth, where PySpark is not installed
    from pyspark.sql import DataFrame

UPLOAD_FILE = "upload_file"
"""Column the bookmarked read adds to every record: the path of its file (``attachFilename``)."""

STRAY_UPLOAD = "STRAY_UPLOAD"
"""First word of the log line naming an upload that has no ingest day; the job's alarm counts them."""

_FOLDER = re.compile(r"(?:^|/)ingest_date=([^/]*)/")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FULL_PATH = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|/")


class UnknownUploadFiles(RuntimeError):
    """Uploads were read whose file paths are unknown, so their days are too: do not commit."""


@dataclass(frozen=True)
class Discovery:
    """The days a run takes, and the uploads it leaves out (path -> why it has no day)."""

    days: list[date]
    stray: dict[str, str] = field(default_factory=dict)

    def log_lines(self) -> list[str]:
        """One :data:`STRAY_UPLOAD` line per stray upload, in path order."""
        return [f"{STRAY_UPLOAD} {path}: {why}" for path, why in sorted(self.stray.items())]


def ingest_day(path: str) -> date:
    """The day of the first ``ingest_date=`` folder in ``path``; ValueError saying why there is none."""
    match = _FOLDER.search(path)
    if match is None:
        raise ValueError("not in an ingest_date=YYYY-MM-DD folder")
    text = match.group(1)
    if not _DAY.fullmatch(text):
        raise ValueError(f"folder ingest_date={text} is not YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"folder ingest_date={text} is not a calendar day") from None


def discover(paths: Iterable[str | None]) -> Discovery:
    """The days of the uploads at ``paths`` (one per file; None or empty: a record without a path).

    Raises :class:`UnknownUploadFiles` if any path is missing or not a full object path (such as a
    bare file name): those uploads' days cannot be known, and committing the bookmark would skip
    them forever.
    """
    days: set[date] = set()
    stray: dict[str, str] = {}
    missing = 0
    partial: set[str] = set()
    for path in paths:
        if not path:
            missing += 1
        elif not _FULL_PATH.match(path):
            partial.add(path)
        else:
            try:
                days.add(ingest_day(path))
            except ValueError as error:
                stray[path] = str(error)
    if missing or partial:
        why = ["records without a path"] if missing else []
        if partial:
            why.append(
                f"{len(partial)} whose attached path is no full object path, such as "
                f"{min(partial)!r} (the column held no full path, so their folders are unknown)"
            )
        raise UnknownUploadFiles(
            f"new uploads were read without their full file path (column {UPLOAD_FILE!r}, Glue's "
            f"attachFilename): {'; '.join(why)}, so their ingest days are unknown ({len(days)} "
            f"day(s) found from other files); failing before the job bookmark is committed, so "
            f"the next run reads them again"
        )
    return Discovery(sorted(days), stray)


def upload_files(uploads: DataFrame) -> list[str | None]:
    """The distinct file paths in :data:`UPLOAD_FILE` of ``uploads`` (a bookmarked read as a
    DataFrame); ``[None]`` when it has records but not that column."""
    if UPLOAD_FILE not in uploads.columns:
        return [] if uploads.isEmpty() else [None]
    return [row[0] for row in uploads.select(UPLOAD_FILE).distinct().collect()]


def requested_days(argument: str) -> list[date]:
    """The days of ``--ingest_dates`` given as a comma-separated list of ``yyyy-mm-dd``, in order."""
    return sorted({date.fromisoformat(day.strip()) for day in argument.split(",")})


def plan(argument: str, new_upload_files: Callable[[], Iterable[str | None]]) -> Discovery:
    """What a run does for ``--ingest_dates`` ``argument``: ``new`` discovers the days of
    ``new_upload_files()`` (the bookmarked read); a list of days is taken as given, with no read."""
    if argument == "new":
        return discover(new_upload_files())
    return Discovery(requested_days(argument))
