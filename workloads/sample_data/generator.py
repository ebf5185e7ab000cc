"""A seeded, deterministic generator of retail point-of-sale data, dirty on purpose.

It writes what registers would upload into the raw zone (the layout of :mod:`workloads.schema`):
the store list as ``stores/stores.csv`` and, per business day, one file per store under
``transactions_csv/ingest_date=<day>/`` (CSV with a header) or ``transactions_json/ingest_date=<day>/``
(JSON lines). Sales follow weekly and seasonal patterns so a forecast has signal. Registers number
transactions per store (every store has a ``T<day>-00001``), and the JSON stores' registers run on
a UTC clock (``…Z`` with milliseconds, so an evening sale in the Americas carries the next day's
date, yet belongs to its store-local day). A share of the lines
is made dirty, each kind counted in the report (``_report.json`` beside the data): a required field
empty, a negative or absurd amount, an exact duplicate, an unparseable timestamp, an unknown store, a
row with too many or too few fields (CSV only); and one file that is not CSV at all. Every fourth
store's register exports gzip-compressed files (``.csv.gz``). The same
arguments always give byte-identical files.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from workloads.schema import PAYMENT_TYPES, RAW_STORES, RAW_TRANSACTIONS

DIRTY_KINDS = (
    "missing_required_field",
    "bad_amount",
    "bad_timestamp",
    "unknown_store",
    "malformed_row",
    "duplicate",
)
"""The kinds of dirty line the generator makes; each is a ``reason`` of the ETL job's quarantine."""

_CITIES = (
    ("New York", "us-east", "America/New_York", "USD"),
    ("London", "uk", "Europe/London", "GBP"),
    ("Berlin", "eu-central", "Europe/Berlin", "EUR"),
    ("Chicago", "us-central", "America/Chicago", "USD"),
    ("Paris", "eu-west", "Europe/Paris", "EUR"),
    ("Los Angeles", "us-west", "America/Los_Angeles", "USD"),
    ("Manchester", "uk", "Europe/London", "GBP"),
    ("Madrid", "eu-south", "Europe/Madrid", "EUR"),
    ("Boston", "us-east", "America/New_York", "USD"),
    ("Amsterdam", "eu-west", "Europe/Amsterdam", "EUR"),
)
_WEEKDAY_FACTOR = (0.85, 0.9, 0.95, 1.0, 1.15, 1.45, 1.25)
"""Monday ... Sunday: weekends sell most."""
_PRODUCTS = 150
_BAD_TIMESTAMPS = (
    "05/01/2026 14:03",
    "2026-01-05 14:03:22",
    "2026-02-30T10:00:00+01:00",
    "yesterday",
    "2026-01-05T14:03:22+01:00[Europe/Paris]",  # Java's ZonedDateTime.toString(): no ISO 8601
)


@dataclass(frozen=True)
class Store:
    """A store of the sample chain."""

    store_id: str
    store_name: str
    city: str
    region: str
    timezone: str
    opened_on: str
    currency: str
    size: float
    utc_clock: bool
    """Its registers write UTC times (``…T02:05:09.120Z``) instead of local ones with an offset."""


@dataclass
class Report:
    """What the generator wrote: the expected outcome of cleaning it.

    ``clean_lines`` is the number of lines the ETL job must keep, ``dirty`` the number it must
    quarantine per reason, ``unreadable_files`` the files it must reject whole.
    """

    seed: int
    stores: int
    days: int
    start: str
    lines_written: int = 0
    clean_lines: int = 0
    dirty: dict[str, int] = field(default_factory=dict)
    unreadable_files: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@dataclass
class _Line:
    upload_format: str
    path: str
    values: dict[str, Any]
    kind: str | None = None
    extra_fields: int = 0


def make_stores(count: int, start: date) -> list[Store]:
    """``count`` stores in the sample cities, all open before ``start``."""
    stores = []
    for index in range(count):
        city, region, timezone, currency = _CITIES[index % len(_CITIES)]
        branch = index // len(_CITIES) + 1
        stores.append(
            Store(
                store_id=f"S{index + 1:03d}",
                store_name=f"{city} {branch}",
                city=city,
                region=region,
                timezone=timezone,
                opened_on=(start - timedelta(days=400 + 37 * index)).isoformat(),
                currency=currency,
                size=0.7 + 0.15 * (index % 5),
                utc_clock=index % 2 == 1,
            )
        )
    return stores


def _products(rng: random.Random) -> list[tuple[str, float, float]]:
    """(product ID, unit price, popularity weight): a few products sell much more than the rest."""
    return [
        (f"P{rank:04d}", round(max(0.49, math.exp(rng.gauss(2.2, 0.8))), 2), 1 / rank**0.9)
        for rank in range(1, _PRODUCTS + 1)
    ]


def _demand(day: date) -> float:
    """Relative demand of a day: weekday, a yearly wave peaking in summer, a December rush."""
    season = 1 + 0.15 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 80) / 365)
    december = 1.35 if day.month == 12 and day.day >= 10 else 1.0
    return _WEEKDAY_FACTOR[day.weekday()] * season * december


def _sales(
    rng: random.Random, store: Store, day: date, products: list[tuple[str, float, float]], per_day: int
) -> list[dict[str, Any]]:
    """The lines one store sells on one day, in time order."""
    mean = per_day * store.size * _demand(day)
    count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
    zone = ZoneInfo(store.timezone)
    opening = datetime.combine(day, time(8), zone)
    starts = sorted(rng.triangular(0, 13 * 3600, 5.5 * 3600) for _ in range(count))
    weights = [weight for _, _, weight in products]
    lines = []
    for number, offset in enumerate(starts, start=1):
        sold_at = _register_time(opening + timedelta(seconds=offset), utc=store.utc_clock)
        payment = rng.choices(PAYMENT_TYPES, weights=(60, 20, 15, 5))[0]
        transaction_id = f"T{day:%Y%m%d}-{number:05d}"  # numbered per store: every store has T…-00001
        basket = rng.choices(products, weights=weights, k=min(6, 1 + int(rng.expovariate(0.8))))
        for line_number, (product_id, price, _) in enumerate(basket, start=1):
            lines.append(
                {
                    "transaction_id": transaction_id,
                    "line_number": line_number,
                    "store_id": store.store_id,
                    "product_id": product_id,
                    "sold_at": sold_at,
                    "quantity": 1 + int(rng.expovariate(1.2)),
                    "unit_price": price,
                    "currency": store.currency,
                    "payment_type": payment,
                }
            )
    return lines


def _register_time(moment: datetime, *, utc: bool) -> str:
    """How a register writes the time of a sale: local time with its offset to the second, or (a
    register on a UTC clock) UTC with milliseconds and ``Z``, whose date may be the next day's."""
    if utc:
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moment.isoformat(timespec="seconds")


def _make_dirty(rng: random.Random, line: _Line, kind: str) -> None:
    """Spoil one line in the way ``kind`` names (duplicates are added by the caller)."""
    line.kind = kind
    values = line.values
    if kind == "missing_required_field":
        values[rng.choice(RAW_TRANSACTIONS["csv"].required_columns)] = None
    elif kind == "bad_amount":
        values[rng.choice(("quantity", "unit_price"))] = rng.choice((-rng.randint(1, 5), 250_000))
    elif kind == "bad_timestamp":
        values["sold_at"] = rng.choice(_BAD_TIMESTAMPS)
    elif kind == "unknown_store":
        values["store_id"] = f"S9{rng.randint(10, 99)}"
    elif kind == "malformed_row":
        line.extra_fields = rng.choice((-2, -1, 1))


def _csv_text(lines: list[_Line]) -> str:
    columns = RAW_TRANSACTIONS["csv"].column_names
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for line in lines:
        row = ["" if line.values[c] is None else str(line.values[c]) for c in columns]
        if line.extra_fields < 0:
            row = row[: line.extra_fields]
        row.extend(["extra"] * max(0, line.extra_fields))
        writer.writerow(row)
    return buffer.getvalue()


def _json_text(lines: list[_Line]) -> str:
    columns = RAW_TRANSACTIONS["json"].column_names
    return "".join(json.dumps({c: line.values[c] for c in columns}) + "\n" for line in lines)


def _not_csv() -> bytes:
    """A spreadsheet export dropped among the CSV files: a zip archive, as .xlsx files are."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(info, "<worksheet><sheetData/></worksheet>")
    return buffer.getvalue()


def generate(
    output: Path,
    *,
    stores: int = 8,
    days: int = 14,
    start: date = date(2026, 3, 2),
    dirty_share: float = 0.02,
    transactions_per_day: int = 40,
    seed: int = 7,
) -> Report:
    """Write the sample data set into ``output`` and return (and write) its report."""
    if not (1 <= stores <= 999 and days >= 1 and 0 <= dirty_share <= 0.5 and transactions_per_day >= 1):
        raise ValueError("need 1-999 stores, at least 1 day and 1 transaction a day, dirty share 0-0.5")
    rng = random.Random(seed)
    chain = make_stores(stores, start)
    products = _products(rng)
    report = Report(seed=seed, stores=stores, days=days, start=start.isoformat())

    lines: list[_Line] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        for index, store in enumerate(chain):
            upload_format = "csv" if index % 2 == 0 else "json"
            folder = f"{RAW_TRANSACTIONS[upload_format].prefix}ingest_date={day.isoformat()}"
            suffix = "csv" if upload_format == "csv" else "jsonl"
            if index % 4 == 2:  # this register's export is gzip-compressed
                suffix += ".gz"
            path = f"{folder}/{store.store_id}_{day.isoformat()}.{suffix}"
            lines += [
                _Line(upload_format, path, v) for v in _sales(rng, store, day, products, transactions_per_day)
            ]

    total = round(len(lines) * dirty_share)
    share = {
        kind: total // len(DIRTY_KINDS) + (i < total % len(DIRTY_KINDS)) for i, kind in enumerate(DIRTY_KINDS)
    }
    csv_lines = [i for i, line in enumerate(lines) if line.upload_format == "csv"]
    malformed = rng.sample(csv_lines, min(share["malformed_row"], len(csv_lines)))
    rest = rng.sample(sorted(set(range(len(lines))) - set(malformed)), total - len(malformed))
    picks = iter(rest)
    for kind in DIRTY_KINDS:
        chosen = malformed if kind == "malformed_row" else [next(picks) for _ in range(share[kind])]
        for index in chosen:
            _make_dirty(rng, lines[index], kind)

    by_file: dict[str, list[_Line]] = {}
    for line in lines:
        by_file.setdefault(line.path, []).append(line)
        if line.kind == "duplicate":  # the original stays clean, its exact copy follows it
            by_file[line.path].append(_Line(line.upload_format, line.path, dict(line.values)))
    for path, file_lines in by_file.items():
        target = output / path
        target.parent.mkdir(parents=True, exist_ok=True)
        text = _csv_text(file_lines) if file_lines[0].upload_format == "csv" else _json_text(file_lines)
        content = text.encode()
        target.write_bytes(gzip.compress(content, mtime=0) if path.endswith(".gz") else content)
        report.files.append(path)

    middle = start + timedelta(days=days // 2)
    unreadable = f"{RAW_TRANSACTIONS['csv'].prefix}ingest_date={middle.isoformat()}/register_export.csv"
    (output / unreadable).parent.mkdir(parents=True, exist_ok=True)
    (output / unreadable).write_bytes(_not_csv())
    report.unreadable_files.append(unreadable)
    report.files.append(unreadable)

    stores_file = output / RAW_STORES.prefix / "stores.csv"
    stores_file.parent.mkdir(parents=True, exist_ok=True)
    with stores_file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(RAW_STORES.column_names)
        for store in chain:
            writer.writerow(getattr(store, column) for column in RAW_STORES.column_names)
    report.files.append(f"{RAW_STORES.prefix}stores.csv")

    kinds = Counter(line.kind for line in lines if line.kind and line.kind != "duplicate")
    report.dirty = {kind: kinds[kind] for kind in DIRTY_KINDS if kind != "duplicate"}
    report.dirty["duplicate"] = share["duplicate"]
    report.lines_written = len(lines) + share["duplicate"]
    report.clean_lines = report.lines_written - sum(report.dirty.values())
    (output / "_report.json").write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    return report
