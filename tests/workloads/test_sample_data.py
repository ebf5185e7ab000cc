"""The sample-data generator: deterministic, realistic in shape, dirty in known amounts."""

from __future__ import annotations

import csv
import gzip
import json
import statistics
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from tests.workloads.conftest import SAMPLE, Sample
from workloads.sample_data import DIRTY_KINDS, generate
from workloads.sample_data.__main__ import main
from workloads.schema import RAW_STORES, RAW_TRANSACTIONS


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()
    }


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", stores=3, days=2, transactions_per_day=5)
    second = generate(tmp_path / "b", stores=3, days=2, transactions_per_day=5)
    assert first == second
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    generate(tmp_path / "c", stores=3, days=2, transactions_per_day=5, seed=8)
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")


def test_layout_is_one_folder_per_day_and_format(sample: Sample) -> None:
    for day in sample.days:
        csv_files = sorted(p.name for p in (sample.raw / f"transactions_csv/ingest_date={day}").iterdir())
        json_files = sorted(p.name for p in (sample.raw / f"transactions_json/ingest_date={day}").iterdir())
        assert {f"S001_{day}.csv", f"S003_{day}.csv.gz", f"S005_{day}.csv"} <= set(csv_files)
        assert json_files == [f"S002_{day}.jsonl", f"S004_{day}.jsonl", f"S006_{day}.jsonl"]
    gzipped = sample.raw / f"transactions_csv/ingest_date={day}/S003_{day}.csv.gz"
    assert gzip.decompress(gzipped.read_bytes()).decode().startswith("transaction_id,line_number,")
    report = json.loads((sample.raw / "_report.json").read_text())
    assert report["unreadable_files"] == [
        f"transactions_csv/ingest_date={sample.unreadable_day}/register_export.csv"
    ]
    with (sample.raw / "stores/stores.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == RAW_STORES.column_names and len(rows) == 1 + SAMPLE["stores"]


def test_every_dirty_kind_is_present_and_counted(sample: Sample) -> None:
    report = sample.report
    assert set(report.dirty) == set(DIRTY_KINDS)
    assert all(count >= 3 for count in report.dirty.values()), report.dirty
    assert report.clean_lines + sum(report.dirty.values()) == report.lines_written
    assert abs(sum(report.dirty.values()) / report.lines_written - 0.05) < 0.01


def test_csv_files_have_the_raw_header_and_json_lines_the_raw_keys(sample: Sample) -> None:
    columns = RAW_TRANSACTIONS["csv"].column_names
    day = sample.days[0]
    header = (sample.raw / f"transactions_csv/ingest_date={day}/S001_{day}.csv").read_text().splitlines()[0]
    assert tuple(header.split(",")) == columns
    first = (sample.raw / f"transactions_json/ingest_date={day}/S002_{day}.jsonl").read_text().splitlines()[0]
    assert tuple(json.loads(first)) == columns


def test_sales_have_weekly_pattern_time_zones_and_currencies(tmp_path: Path) -> None:
    generate(tmp_path, stores=4, days=28, start=date(2026, 3, 2), dirty_share=0, transactions_per_day=30)
    per_day: dict[str, int] = defaultdict(int)
    offsets, currencies = set(), set()
    for path in tmp_path.glob("transactions_csv/*/S*"):
        for row in csv.DictReader(_text(path).splitlines()):
            per_day[row["sold_at"][:10]] += 1
            offsets.add(row["sold_at"][-6:])
            currencies.add(row["currency"])
    weekend = [n for day, n in per_day.items() if date.fromisoformat(day).weekday() >= 5]
    weekdays = [n for day, n in per_day.items() if date.fromisoformat(day).weekday() < 5]
    assert statistics.mean(weekend) > 1.2 * statistics.mean(weekdays)
    assert {"-05:00", "+01:00"} <= offsets and currencies == {"USD", "EUR"}


def test_registers_number_per_store_and_utc_clocks_cross_midnight(tmp_path: Path) -> None:
    """Every store has its own T<day>-00001, and a UTC-clocked register in Chicago writes the next
    day's date for its evening sales, which still belong to the store-local day of their folder."""
    generate(tmp_path, stores=4, days=2, start=date(2026, 3, 2), dirty_share=0, transactions_per_day=30)
    first = {path.name: _first_line(path)["transaction_id"] for path in tmp_path.glob("transactions_*/*/S*")}
    assert len(first) == 8 and all(
        transaction == f"T{name[5:15].replace('-', '')}-00001" for name, transaction in first.items()
    ), first
    chicago = [
        json.loads(text)
        for path in tmp_path.glob("transactions_json/ingest_date=2026-03-02/S004_*")
        for text in path.read_text().splitlines()
    ]
    assert all(line["sold_at"].endswith("Z") and "." in line["sold_at"] for line in chicago)
    assert {line["sold_at"][:10] for line in chicago} == {"2026-03-02", "2026-03-03"}


def _text(path: Path) -> str:
    content = path.read_bytes()
    return (gzip.decompress(content) if path.suffix == ".gz" else content).decode()


def _first_line(path: Path) -> dict[str, str]:
    lines = _text(path).splitlines()
    return next(csv.DictReader(lines)) if ".csv" in path.name else json.loads(lines[0])


def test_command_line_writes_and_rejects_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--output", str(tmp_path), "--stores", "2", "--days", "1", "--per-day", "3"]) == 0
    assert "wrote" in capsys.readouterr().out and (tmp_path / "_report.json").is_file()
    with pytest.raises(SystemExit) as raised:
        main(["--output", str(tmp_path), "--stores", "0"])
    assert raised.value.code == 2
    assert "need 1-999 stores" in capsys.readouterr().err
