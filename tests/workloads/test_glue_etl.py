"""The Glue ETL transformation, run with local PySpark on the generated sample data."""

from __future__ import annotations

import ast
import gzip
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
from workloads.glue.transform import GateFailed, clean_days, publish_days, read_curated, write_days
from workloads.lake_io import WRITTEN, read_table
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
    assert duplicates and all(
        "same store_id, transaction_id, line_number as" in row.detail for row in duplicates
    )


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
            files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
            assert files[0] == WRITTEN and len(files) == 2 and files[1].endswith(".parquet"), files
    assert sorted(p.name for p in (etl.curated / QUARANTINE.prefix).iterdir() if p.is_dir()) == [
        f"ingest_date={day}" for day in sample.days
    ]


def test_no_duplicate_keys_and_every_row_typed_in_range_on_its_store_local_day(
    spark: Any, sample: Sample, etl: EtlRun
) -> None:
    """Every curated row, not one: unique key, amounts within the schema's bounds, net = quantity x
    price, and its partition the day of ``sold_at`` in its store's time zone, which for the sample's
    UTC-clocked registers in the Americas is often not the UTC day."""
    curated = spark.read.parquet(str(etl.curated / CURATED_TRANSACTIONS.prefix))
    key = list(CURATED_TRANSACTIONS.key)
    assert curated.count() == curated.select(*key).distinct().count() == sample.report.clean_lines
    stores = spark.read.option("header", "true").csv(str(sample.raw / RAW_STORES.prefix))
    checked = curated.join(stores.select("store_id", "timezone"), "store_id")
    local = F.date_format(F.from_utc_timestamp("sold_at", F.col("timezone")), "yyyy-MM-dd")
    broken = {
        "net": F.col("net_amount") != F.col("quantity") * F.col("unit_price"),
        "local_day": local != F.col("sale_date"),
        **{
            name: ~F.col(name).between(column.minimum, column.maximum)
            for name in ("quantity", "unit_price")
            for column in [CURATED_TRANSACTIONS.column(name)]
        },
        "null": F.lit(False).__or__(
            F.greatest(*(F.col(c).isNull() for c in CURATED_TRANSACTIONS.required_columns))
        ),
    }
    counts = checked.agg(
        F.count(F.lit(1)).alias("rows"),
        *(F.count_if(condition).alias(name) for name, condition in broken.items()),
        F.count_if(F.to_date("sold_at").cast("string") != F.col("sale_date")).alias("utc_day_differs"),
    ).first()
    assert counts["rows"] == sample.report.clean_lines
    assert {name: counts[name] for name in broken} == dict.fromkeys(broken, 0)
    assert counts["utc_day_differs"] > 0  # the store's day, not the UTC one, decides the partition


HEADER = "transaction_id,line_number,store_id,product_id,sold_at,quantity,unit_price,currency,payment_type"


def _upload(
    raw: Path, day: date, rows: list[str], stores: dict[str, str] | None = None, name: str = "upload.csv"
) -> Path:
    """A CSV upload of ``rows`` into ``day``'s folder (replacing one of the same name) and a store
    list of ``stores`` (ID -> time zone; default S001 in UTC); the upload's path."""
    folder = raw / f"transactions_csv/ingest_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join([HEADER, *rows]) + "\n")
    (folder / "_SUCCESS").write_text("")
    (raw / RAW_STORES.prefix).mkdir(exist_ok=True)
    listed = (stores or {"S001": "UTC"}).items()
    (raw / RAW_STORES.prefix / "stores.csv").write_text(
        "store_id,store_name,city,region,timezone,opened_on\n"
        + "".join(f"{store},n,c,us-east,{zone},2020-01-01\n" for store, zone in listed)
    )
    return folder / name


def _published(spark: Any, curated: Path) -> dict[str, tuple[list[str], list[tuple[int, str]]]]:
    """Per day, the published curated transaction IDs and quarantined (line, reason), as readers see
    them: one read of each table."""
    found: dict[str, tuple[list[str], list[tuple[int, str]]]] = {}
    for row in read_table(spark, str(curated), CURATED_TRANSACTIONS).collect():
        found.setdefault(row.sale_date, ([], []))[0].append(row.transaction_id)
    for row in read_table(spark, str(curated), QUARANTINE).collect():
        found.setdefault(row.ingest_date, ([], []))[1].append((row.source_line, row.reason))
    return {day: (sorted(clean), sorted(dropped)) for day, (clean, dropped) in sorted(found.items())}


def test_a_rerun_replaces_exactly_the_days_partitions_also_when_one_becomes_empty(
    spark: Any, tmp_path: Path
) -> None:
    """A rerun of three days with new input: A's fixed upload leaves no stale quarantine, B's
    all-bad one no stale sales, C's removed one neither; day D, not rerun, is never touched."""
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    a, b, c, d = (date(2026, 3, day) for day in (6, 7, 8, 9))
    good = "T1,1,S001,P1,{day}T10:00:00Z,2,3.50,EUR,card"
    bad = "T2,1,S001,P1,{day}T10:00:00Z,0,3.50,EUR,card"
    uploads = {day: _upload(raw, day, [good.format(day=day), bad.format(day=day)]) for day in (a, b, c, d)}
    write_days(clean_days(spark, str(raw), [a, b, c, d]), str(curated))
    both = (["T1"], [(3, "bad_amount")])
    assert _published(spark, curated) == {str(day): both for day in (a, b, c, d)}

    _upload(raw, a, [good.format(day=a)])  # fixed: A's quarantine becomes empty
    _upload(raw, b, [bad.format(day=b)])  # all bad: B's sales become empty
    uploads[c].unlink()  # removed: C has no upload left
    write_days(clean_days(spark, str(raw), [a, b, c]), str(curated))
    assert _published(spark, curated) == {
        str(a): (["T1"], []),
        str(b): ([], [(2, "bad_amount")]),
        str(d): both,
    }
    for table in (CURATED_TRANSACTIONS.prefix, QUARANTINE.prefix):
        folder = next((curated / table).glob(f"*={c}"))
        assert [path.name for path in folder.iterdir() if not path.name.startswith(".")] == [WRITTEN]


def test_readers_never_see_a_day_that_failed_its_gate(
    spark: Any, sample: Sample, demo: Result, tmp_path: Path
) -> None:
    """Stage, check, publish: a rerun of the demo's last day whose lines fail the real rules (checked
    a month late, the freshness rule fails) raises before anything is written, so the published
    tables stay byte for byte as the demo's publish left them. (The demo's quality stage is the run
    whose gate passed and which published.)"""
    curated = tmp_path / "curated"
    shutil.copytree(demo.zones.curated, curated)

    def files() -> dict[str, tuple[int, int]]:
        return {
            str(f.relative_to(curated)): (f.stat().st_size, f.stat().st_mtime_ns) for f in curated.rglob("*")
        }

    before = files()
    rules = quality.table_rules(freshness_hours=36)
    month_late = datetime.combine(sample.days[-1], datetime.min.time()).replace(
        month=sample.days[-1].month + 1
    )

    def gate(staged: Any) -> list[str]:
        return [o.rule for o in quality_check.evaluate(rules, staged, month_late) if not o.passed]

    with pytest.raises(GateFailed, match=r'nothing published: DataFreshness "sold_at" <= 36 hours$'):
        publish_days(clean_days(spark, str(sample.raw), sample.days[-1:]), str(curated), gate)
    assert files() == before and any(name.endswith(".parquet") for name in before)
    assert [outcome.passed for outcome in demo.quality] == [True] * len(demo.quality)


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
        "T1, 1 ,S001,P1,{ok},2,3.50,EUR,card": "duplicate",  # " 1 " is line 1
        "T1,1,S003,P1,{ok},2,3.50,EUR,card": None,  # the same transaction ID in another store
        "T3,2,S001,P1,{ok},2,3.50,EUR,Card": "invalid_value",  # categories match exactly
        "T10,1,S002,P1,{ok},2,3.50,EUR,card": "unknown_store",
        "T11,1,S001,,{ok},2,3.50,EUR,card": "missing_required_field",
        "T12,1,S004,P1,{ok},2,3.50,EUR,card": "unknown_store",  # its time zone is none
        "T13,1,S001,P1,2026-03-06T10:00:00.123456+01:00,2,3.50,EUR,card": None,
        "T14,1,S001,P1,2026-03-06T10:00:00.5Z,2,3.50,EUR,card": None,
        "T15,1,S001,P1,2026-03-06T10:00:00+01:00[Europe/Paris],2,3.50,EUR,card": "bad_timestamp",
        "T16,1,S001,P1,2026-03-06T10:00:00+0100,2,3.50,EUR,card": "bad_timestamp",
        "T17,1,S001,P1,2026-03-06T10:00,2,3.50,EUR,card": "bad_timestamp",
        # Chicago (UTC-6): 02:30 UTC on the 7th is 20:30 on the 6th there, 07:00 UTC on the 6th is
        # 01:00 there, still the 6th; 05:59 UTC on the 6th is the 5th there.
        "T18,1,S005,P1,2026-03-07T02:30:00Z,2,3.50,USD,card": None,
        "T19,1,S005,P1,2026-03-06T07:00:00.000Z,2,3.50,USD,card": None,
        "T20,1,S005,P1,2026-03-06T05:59:00Z,2,3.50,USD,card": "wrong_ingest_day",
    }
    stores = {"S001": "UTC", "S003": "Europe/Paris", "S004": "Mars/Olympus", "S005": "America/Chicago"}
    _upload(tmp_path, day, [row.format(ok=ok) for row in rows], stores)
    result = clean_days(spark, str(tmp_path), [day])
    quarantined = {row.source_line: row for row in result.quarantine.collect()}
    expected = {line: reason for line, reason in enumerate(rows.values(), start=2) if reason}
    assert {line: row.reason for line, row in quarantined.items()} == expected
    kept = sorted((row.store_id, row.transaction_id) for row in result.clean.collect())
    fields = [(row.split(",")[2], row.split(",")[0]) for row, reason in rows.items() if reason is None]
    assert kept == sorted(fields)
    assert quarantined[17].detail == "empty: product_id"
    assert (
        quarantined[13].detail
        == f"same store_id, transaction_id, line_number as {quarantined[13].source_file} line 2"
    )
    assert quarantined[13].record == "T1, 1 ,S001,P1,2026-03-06T10:00:00+01:00,2,3.50,EUR,card"  # as uploaded
    assert quarantined[18].detail == "store S004 has the time zone 'Mars/Olympus', which is no IANA zone"
    assert quarantined[16].detail == "store S002 is not in the store list"
    assert quarantined[26].detail == "sold on 2026-03-05 in the store's time zone America/Chicago"


def test_hostile_uploads_never_stop_the_run(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each shape that used to kill the run (or be quarantined whole) ends as lines with reasons:
    gzip with and without its suffix, a CSV field over the csv limit, a JSON line nested 100 000
    deep or with a 5 000-digit number, a JSON string holding U+2028, a file over the size limit."""
    day = date(2026, 3, 6)
    good = "T{n},1,S001,P1,2026-03-06T10:00:00Z,2,3.50,EUR,card"
    _upload(tmp_path, day, [good.format(n=1), good.format(n=2).replace("P1", "P" * 200_000)])
    folder = tmp_path / f"transactions_csv/ingest_date={day}"
    (folder / "export.csv.gz").write_bytes(gzip.compress(f"{HEADER}\n{good.format(n=3)}\n".encode()))
    (folder / "export_without_suffix.csv").write_bytes(
        gzip.compress(f"{HEADER}\n{good.format(n=4)}\n".encode())
    )
    (folder / "big.csv").write_text(HEADER + "\n" + good.format(n=5) + "\n" * 300_000)
    line = dict(zip(HEADER.split(","), good.format(n=6).split(","), strict=True)) | {"product_id": "P\u2028x"}
    hostile = ["[" * 100_000, '{"a": ' + "9" * 5000 + "}", json.dumps(line, ensure_ascii=False)]
    json_folder = tmp_path / f"transactions_json/ingest_date={day}"
    json_folder.mkdir(parents=True)
    (json_folder / "a.jsonl.gz").write_bytes(gzip.compress("\n".join(hostile).encode()))
    size = (folder / "big.csv").stat().st_size
    monkeypatch.setattr("workloads.glue.transform.MAX_FILE_BYTES", 300_000)  # upload.csv is 200 kB
    result = clean_days(spark, str(tmp_path), [day])
    kept = sorted((row.transaction_id, row.product_id) for row in result.clean.collect())
    assert kept == [("T1", "P1"), ("T3", "P1"), ("T4", "P1"), ("T6", "P\u2028x")]
    dropped = sorted(
        (row.source_file.rsplit("/", 1)[1], row.source_line, row.reason, row.detail[:30])
        for row in result.quarantine.collect()
    )
    assert dropped == [
        ("a.jsonl.gz", 1, "malformed_row", "not JSON: nested too deeply"),
        ("a.jsonl.gz", 2, "malformed_row", "not JSON: Exceeds the limit (4"),
        ("big.csv", 0, "unreadable_file", f"{size} bytes, more than the 300000 parsed"[:30]),
        ("upload.csv", 3, "malformed_row", "not a CSV row: field larger th"),
    ]


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
        # Any non-empty file gives records, so its path is seen: no quoting, no header, CSV for all.
        assert (ast.literal_eval(keywords["format"]), ast.unparse(keywords["format_options"])) == (
            "csv",
            "DISCOVERY_FORMAT",
        )
    assert "DISCOVERY_FORMAT = {'withHeader': False, 'quoteChar': -1}" in ast.unparse(tree)
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
        'IsPrimaryKey "store_id" "transaction_id" "line_number"',
        'ColumnValues "currency" in ["EUR", "GBP", "USD"]',
    }
    empty = read_curated(spark, str(etl.curated), [date(2030, 1, 1)], since=None)
    assert not quality_check.evaluate([quality.HasRows()], empty, datetime(2030, 1, 2))[0].passed
    nothing = read_curated(spark, "/nonexistent", [], since=None)
    assert nothing.count() == 0 and _types(nothing) == _expected(CURATED_TRANSACTIONS)


def test_report_is_json_with_the_expected_keys(sample: Sample) -> None:
    report = json.loads((sample.raw / "_report.json").read_text())
    assert set(report) >= {"seed", "clean_lines", "dirty", "unreadable_files", "lines_written"}
