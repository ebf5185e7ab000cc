"""The Glue ETL transformation, run with local PySpark on the generated sample data."""

from __future__ import annotations

import ast
import json
import shutil
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import functions as F

from demo.pipeline import FRESHNESS_HOURS, Result
from tests.workloads.conftest import EtlRun, Sample
from workloads.glue import discovery, quality, quality_check
from workloads.glue.transform import clean_days, read_curated, write_days
from workloads.schema import CURATED_TRANSACTIONS, QUARANTINE, RAW_STORES, REJECTION_REASONS


def _types(frame: Any) -> list[tuple[str, str]]:
    return [(field.name, field.dataType.simpleString()) for field in frame.schema.fields]


def _expected(table: Any) -> list[tuple[str, str]]:
    return [(column.name, column.type) for column in (*table.columns, *table.partition_keys)]


def test_counts_kept_and_quarantined_per_kind_equal_the_generator_report(sample: Sample, etl: EtlRun) -> None:
    totals: Counter[str] = Counter()
    for counts in etl.counts.values():
        totals.update(counts)
    expected = {"kept": sample.report.clean_lines, **sample.report.dirty, "unreadable_file": 1}
    assert dict(totals) == expected


def test_quarantine_keeps_every_rejected_line_with_its_reason(
    spark: Any, sample: Sample, etl: EtlRun
) -> None:
    quarantine = spark.read.parquet(str(etl.curated / QUARANTINE.prefix))
    assert _types(quarantine) == _expected(QUARANTINE)
    rows = quarantine.collect()
    assert {row.reason for row in rows} <= set(REJECTION_REASONS)
    assert all(row.detail for row in rows)
    assert all(row.record for row in rows if row.reason != "unreadable_file")
    (unreadable,) = [row for row in rows if row.reason == "unreadable_file"]
    assert unreadable.source_file.endswith(sample.report.unreadable_files[0])
    assert (unreadable.source_line, unreadable.ingest_date) == (0, sample.unreadable_day.isoformat())
    duplicates = [row for row in rows if row.reason == "duplicate"]
    assert all("same transaction_id and line_number as" in row.detail for row in duplicates)


def test_curated_schema_and_types_equal_the_schema_module(spark: Any, etl: EtlRun) -> None:
    curated = spark.read.parquet(str(etl.curated / CURATED_TRANSACTIONS.prefix))
    assert _types(curated) == _expected(CURATED_TRANSACTIONS)


def test_partition_layout_is_one_folder_per_sale_day_with_parquet_files(sample: Sample, etl: EtlRun) -> None:
    table = etl.curated / CURATED_TRANSACTIONS.prefix
    assert sorted(p.name for p in table.iterdir() if p.is_dir()) == [
        f"sale_date={day}" for day in sample.days
    ]
    for folder in table.iterdir():
        if folder.is_dir():
            data = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
            assert data and all(name.endswith(".parquet") for name in data), data
    assert sorted(p.name for p in (etl.curated / QUARANTINE.prefix).iterdir() if p.is_dir()) == [
        f"ingest_date={day}" for day in sample.days
    ]


def test_no_duplicate_keys_and_amounts_are_typed_and_in_range(spark: Any, etl: EtlRun) -> None:
    curated = spark.read.parquet(str(etl.curated / CURATED_TRANSACTIONS.prefix))
    key = list(CURATED_TRANSACTIONS.key)
    assert curated.count() == curated.select(*key).distinct().count()
    row = curated.orderBy(*key).first()
    assert row.net_amount == row.quantity * row.unit_price
    assert isinstance(row.sold_at, datetime) and row.sale_date == row.sold_at.date().isoformat()


def test_rerunning_a_day_replaces_its_partitions_without_duplicating(
    spark: Any, sample: Sample, demo: Result, tmp_path: Path
) -> None:
    """A second run of a day the demo's Glue stage cleaned, over a copy of its curated zone."""
    day, rerun = sample.unreadable_day, tmp_path / "curated"
    shutil.copytree(demo.zones.curated, rerun)
    write_days(clean_days(spark, str(demo.zones.raw), [day]), str(rerun))

    def rows(curated: Path) -> tuple[list[Any], list[Any]]:
        clean = spark.read.parquet(str(curated / CURATED_TRANSACTIONS.prefix / f"sale_date={day}"))
        dropped = spark.read.parquet(str(curated / QUARANTINE.prefix / f"ingest_date={day}"))
        return (
            clean.orderBy("transaction_id", "line_number").collect(),
            dropped.orderBy("source_file", "source_line").collect(),
        )

    first, second = rows(demo.zones.curated), rows(rerun)
    assert first == second and len(first[0]) > 0 and len(first[1]) > 0
    files = list((rerun / CURATED_TRANSACTIONS.prefix / f"sale_date={day}").glob("*.parquet"))
    assert len(files) == 1


def _upload(raw: Path, day: date, rows: list[str], stores: str = "S001") -> None:
    folder = raw / f"transactions_csv/ingest_date={day}"
    folder.mkdir(parents=True)
    header = (
        "transaction_id,line_number,store_id,product_id,sold_at,quantity,unit_price,currency,payment_type"
    )
    (folder / "upload.csv").write_text("\n".join([header, *rows]) + "\n")
    (folder / "_SUCCESS").write_text("")
    (raw / RAW_STORES.prefix).mkdir(exist_ok=True)
    (raw / RAW_STORES.prefix / "stores.csv").write_text(
        "store_id,store_name,city,region,timezone,opened_on\n"
        + "".join(f"{s},n,c,r,UTC,2020-01-01\n" for s in stores.split())
    )


def test_each_rule_rejects_with_its_own_reason(spark: Any, tmp_path: Path) -> None:
    day = date(2026, 3, 6)
    ok = "2026-03-06T10:00:00+01:00"
    rows = {
        "T1,1,S001,P1,{ok},2,3.50,EUR,card": None,
        "T2,1,S001,P1,{ok},2,3.50,EUR,": None,  # payment type is optional
        "T3,1,S001,P1,{ok},2,3.50,EUR,bitcoin": "invalid_value",
        "T4,x,S001,P1,{ok},2,3.50,EUR,card": "invalid_value",
        "T5,1,S001,P1,{ok},2,3.50,JPY,card": "invalid_value",
        "T6,1,S001,P1,{ok},2.5,3.50,EUR,card": "bad_amount",
        "T7,1,S001,P1,{ok},2,3.505,EUR,card": "bad_amount",
        "T8,1,S001,P1,{ok},0,3.50,EUR,card": "bad_amount",
        "T9,1,S001,P1,2026-03-05T23:59:59+01:00,2,3.50,EUR,card": "wrong_ingest_day",
        "T1,1,S001,P1,{ok},3,3.50,EUR,card": "conflicting_duplicate",
        "T1,1,S001,P2,{ok},2,3.50,EUR,card": "conflicting_duplicate",
        "T3,2,S001,P1,{ok},2,3.50,EUR,card ": "invalid_value",  # categories match exactly
        "T10,1,S002,P1,{ok},2,3.50,EUR,card": "unknown_store",
        "T11,1,S001,,{ok},2,3.50,EUR,card": "missing_required_field",
    }
    _upload(tmp_path, day, [row.format(ok=ok) for row in rows])
    result = clean_days(spark, str(tmp_path), [day])
    by_line = {row.source_line: row.reason for row in result.quarantine.collect()}
    expected = {line: reason for line, reason in enumerate(rows.values(), start=2) if reason}
    assert by_line == expected
    assert sorted(row.transaction_id for row in result.clean.collect()) == ["T1", "T2"]
    missing = result.quarantine.where("reason = 'missing_required_field'").first()
    assert missing.detail == "empty: product_id"


def test_days_cleaned_together_keep_each_line_in_its_own_day(spark: Any, tmp_path: Path) -> None:
    """One pass over several days judges every line as a run of its day alone would: a key seen on
    another day is no duplicate, and a line dated a neighbouring day stays quarantined in its folder."""
    first, second = date(2026, 3, 6), date(2026, 3, 7)
    line = "T1,1,S001,P1,{day}T10:00:00+01:00,2,3.50,EUR,card"
    _upload(tmp_path, first, [line.format(day=first), line.format(day=second)])
    _upload(tmp_path, second, [line.format(day=second), line.format(day=second)])
    result = clean_days(spark, str(tmp_path), [second, first])
    assert result.counts() == {
        first: {"kept": 1, "wrong_ingest_day": 1},
        second: {"kept": 1, "duplicate": 1},
    }
    assert sorted((row.sale_date, row.source_file.rsplit("/", 2)[-2]) for row in result.clean.collect()) == [
        (first.isoformat(), f"ingest_date={first}"),
        (second.isoformat(), f"ingest_date={second}"),
    ]


def test_a_day_without_uploads_has_nothing_to_write(spark: Any, sample: Sample) -> None:
    result = clean_days(spark, str(sample.raw), [date(2030, 1, 1)])
    assert result.counts() == {date(2030, 1, 1): {"kept": 0}}


def test_ingest_days_are_read_from_upload_paths_and_strays_are_named_with_why() -> None:
    found = discovery.discover(
        [
            "s3://raw/transactions_csv/ingest_date=2026-03-07/S001.csv",
            "s3://raw/transactions_json/ingest_date=2026-03-06/S002.jsonl",
            "s3://raw/transactions_csv/ingest_date=2026-03-07/late/S003.csv",
            "s3a://raw/transactions_csv/ingest_date=2026-03-08/S004.csv",
            "s3://raw/transactions_csv/S005.csv",
            "s3://raw/transactions_csv/ingest_date=2026-02-30/S006.csv",
            "s3://raw/transactions_csv/ingest_date=2026-13-01/S007.csv",
            "s3://raw/transactions_csv/ingest_date=yesterday/S008.csv",
            "s3://raw/transactions_csv/ingest_date=20260306/S009.csv",
            "s3://raw/transactions_csv/ingest_date=2026-03-06.csv",
        ]
    )
    assert found.days == [date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 8)]
    folder = "s3://raw/transactions_csv/ingest_date="
    assert found.stray == {
        "s3://raw/transactions_csv/S005.csv": "not in an ingest_date=YYYY-MM-DD folder",
        f"{folder}2026-02-30/S006.csv": "folder ingest_date=2026-02-30 is not a calendar day",
        f"{folder}2026-13-01/S007.csv": "folder ingest_date=2026-13-01 is not a calendar day",
        f"{folder}yesterday/S008.csv": "folder ingest_date=yesterday is not YYYY-MM-DD",
        f"{folder}20260306/S009.csv": "folder ingest_date=20260306 is not YYYY-MM-DD",
        f"{folder}2026-03-06.csv": "not in an ingest_date=YYYY-MM-DD folder",
    }
    assert found.log_lines()[0] == (
        f"{discovery.STRAY_UPLOAD} s3://raw/transactions_csv/S005.csv: "
        "not in an ingest_date=YYYY-MM-DD folder"
    )
    assert len(found.log_lines()) == len(found.stray)


def test_only_stray_uploads_give_no_day_and_do_not_fail_the_run() -> None:
    found = discovery.discover(["s3://raw/transactions_csv/upload.csv"])
    assert found.days == [] and list(found.stray) == ["s3://raw/transactions_csv/upload.csv"]
    assert discovery.discover([]) == discovery.Discovery([])


@pytest.mark.parametrize(
    "paths", [[None], [""], ["s3://raw/transactions_csv/ingest_date=2026-03-07/S001.csv", None]]
)
def test_uploads_read_without_their_file_path_fail_before_the_bookmark_is_committed(
    paths: list[str | None],
) -> None:
    with pytest.raises(discovery.UnknownUploadFiles, match="before the job bookmark is committed"):
        discovery.discover(paths)


@pytest.mark.parametrize(
    "paths",
    [
        ["S001.csv", "S002.jsonl"],
        ["s3://raw/transactions_csv/ingest_date=2026-03-07/S001.csv", "S002.csv"],
        ["transactions_csv/ingest_date=2026-03-07/S001.csv"],
        ["s3:S001.csv"],
    ],
)
def test_uploads_whose_attached_path_is_no_full_object_path_are_unknown_not_stray(
    paths: list[str | None],
) -> None:
    """Glue does not document whether attachFilename holds the full path or the file name: a bare
    name must not make every upload stray (no day found, bookmark committed, uploads skipped)."""
    with pytest.raises(discovery.UnknownUploadFiles, match="held no full path") as raised:
        discovery.discover(paths)
    assert "before the job bookmark is committed" in str(raised.value)


def test_full_object_paths_of_any_scheme_and_local_paths_give_their_days() -> None:
    found = discovery.discover(
        [
            "s3n://raw/t/ingest_date=2026-03-05/a.csv",
            "file:///tmp/raw/t/ingest_date=2026-03-06/b.csv",
            "/tmp/raw/t/ingest_date=2026-03-07/c.csv",
            "file:///tmp/raw/t/d.csv",
        ]
    )
    assert found.days == [date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 7)]
    assert list(found.stray) == ["file:///tmp/raw/t/d.csv"]


def test_file_paths_come_from_the_attached_column_of_the_bookmarked_read(spark: Any) -> None:
    column = discovery.UPLOAD_FILE
    named = spark.createDataFrame(
        [("T1", "s3://r/ingest_date=2026-03-06/a.csv"), ("T2", "s3://r/ingest_date=2026-03-06/a.csv")],
        f"transaction_id string, {column} string",
    )
    assert discovery.upload_files(named) == ["s3://r/ingest_date=2026-03-06/a.csv"]
    unnamed = spark.createDataFrame([("T1",)], "transaction_id string")
    with pytest.raises(discovery.UnknownUploadFiles):
        discovery.discover(discovery.upload_files(unnamed))
    nothing_new = spark.createDataFrame([], "transaction_id string")
    assert discovery.discover(discovery.upload_files(nothing_new)) == discovery.Discovery([])


def test_a_rerun_takes_the_given_days_without_reading_the_bookmark() -> None:
    def unread() -> list[str | None]:
        raise AssertionError("a rerun must not read the bookmarked uploads")

    rerun = discovery.plan("2026-03-07, 2026-03-06,2026-03-07", unread)
    assert rerun == discovery.Discovery([date(2026, 3, 6), date(2026, 3, 7)])
    new = discovery.plan("new", lambda: ["s3://r/transactions_csv/ingest_date=2026-03-06/a.csv"])
    assert new.days == [date(2026, 3, 6)]
    with pytest.raises(discovery.UnknownUploadFiles):
        discovery.plan("new", lambda: [None])


def test_the_entry_script_attaches_the_file_path_to_its_bookmarked_read() -> None:
    """The Glue script cannot run here (no awsglue): its bookmarked read must ask Glue for the
    column :func:`discovery.upload_files` reads, and its days must come from :func:`discovery.plan`."""
    tree = ast.parse(Path(discovery.__file__).with_name("etl_job.py").read_text())
    reads = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("create_dynamic_frame.from_options")
    ]
    assert reads, "no bookmarked read in the script"
    for read in reads:
        keywords = {keyword.arg: keyword.value for keyword in read.keywords}
        options = keywords["connection_options"]
        assert isinstance(options, ast.Dict)
        attached = {
            ast.literal_eval(k): ast.unparse(v)
            for k, v in zip(options.keys, options.values, strict=True)
            if k
        }
        assert attached["attachFilename"] == "discovery.UPLOAD_FILE"
        assert "transformation_ctx" in keywords
    assert "discovery.plan(" in ast.unparse(tree)


def test_curated_output_passes_the_data_quality_rules(
    spark: Any, sample: Sample, etl: EtlRun, demo: Result
) -> None:
    """The demo's quality stage evaluated every rule (prod's freshness included) on its Glue output."""
    assert [outcome.rule for outcome in demo.quality] == [
        rule.dqdl for rule in quality.table_rules(freshness_hours=FRESHNESS_HOURS)
    ]
    assert [outcome for outcome in demo.quality if not outcome.passed] == []
    frame = read_curated(spark, str(etl.curated), sample.days[:1], since=sample.days[1])
    days = {row.sale_date for row in frame.select("sale_date").distinct().collect()}
    assert days == {day.isoformat() for day in sample.days}
    fresh, now = [quality.IsFresh("sold_at", 36)], datetime.combine(sample.days[-1], datetime.min.time())
    assert quality_check.evaluate(fresh, frame, now.replace(hour=23))[0].passed
    stale = quality_check.evaluate(fresh, frame, now.replace(year=2027))[0]
    assert (stale.passed, stale.rule) == (False, 'DataFreshness "sold_at" <= 36 hours')


def test_data_quality_rules_catch_what_the_quarantine_would(spark: Any, sample: Sample, etl: EtlRun) -> None:
    frame = read_curated(spark, str(etl.curated), sample.days, since=None)
    broken = frame.limit(5).unionByName(frame.limit(1)).withColumn("currency", F.lit("JPY"))
    failed = {
        o.rule
        for o in quality_check.evaluate(quality.table_rules(), broken, datetime(2026, 3, 9))
        if not o.passed
    }
    assert failed == {
        'IsPrimaryKey "transaction_id" "line_number"',
        'ColumnValues "currency" in ["EUR", "GBP", "USD"]',
    }
    empty = read_curated(spark, str(etl.curated), [date(2030, 1, 1)], since=None)
    assert not quality_check.evaluate([quality.HasRows()], empty, datetime(2030, 1, 2))[0].passed
    nothing = read_curated(spark, "/nonexistent", [], since=None)
    assert nothing.count() == 0 and _types(nothing) == _expected(CURATED_TRANSACTIONS)


def test_report_is_json_with_the_expected_keys(sample: Sample) -> None:
    report = json.loads((sample.raw / "_report.json").read_text())
    assert set(report) >= {"seed", "clean_lines", "dirty", "unreadable_files", "lines_written"}
