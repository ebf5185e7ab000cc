"""The EMR feature job, run with the session's local Spark on hand-made and on ETL-cleaned data."""

from __future__ import annotations

import os
import shutil
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas
import pytest

from demo.pipeline import Result
from workloads.emr import features_step
from workloads.emr.features import MissingInputDay, run
from workloads.emr.holidays import easter_sunday, holidays
from workloads.lake_io import WRITTEN, ddl_schema, replace_partitions, table_location, written_days
from workloads.schema import CURATED_TRANSACTIONS, RAW_STORES, STORE_DAILY_FEATURES

JULY = [date(2026, 7, day) for day in range(1, 6)]
"""Wed 1 ... Sun 5 July 2026; the 4th (a Saturday) is Independence Day in the US."""


def _line(store: str, day: int, transaction: str, line: int, quantity: int, price: str) -> tuple[Any, ...]:
    net = Decimal(price) * quantity
    sold_at = datetime(2026, 7, day, 12)
    return (
        transaction,
        line,
        store,
        "P1",
        sold_at,
        quantity,
        Decimal(price),
        "USD",
        "card",
        net,
        "f",
        f"2026-07-{day:02}",
    )


HAND_CHECKED = [
    # store S1 (us-east): 10.00 on the 1st, 20.00 on the 2nd (two lines of one sale), nothing on
    # the 3rd, 40.00 on the 4th; the 5th's 1000.00 must not leak into earlier days.
    _line("S1", 1, "T1", 1, 1, "10.00"),
    _line("S1", 2, "T2", 1, 1, "5.00"),
    _line("S1", 2, "T2", 2, 3, "5.00"),
    _line("S1", 4, "T3", 1, 2, "20.00"),
    _line("S1", 5, "T4", 1, 1, "1000.00"),
    # store S2 (uk): a sale on the 3rd and one on the 4th, not a UK holiday.
    _line("S2", 3, "T5", 1, 1, "2.50"),
    _line("S2", 4, "T6", 1, 1, "7.50"),
]


def _lake(spark: Any, root: Path, lines: list[tuple[Any, ...]]) -> dict[str, str]:
    """A curated zone holding ``lines`` and a raw zone holding the store list; the zone URLs."""
    zones = {zone: str(root / zone) for zone in ("curated", "raw", "analytics")}
    frame = spark.createDataFrame(lines, ddl_schema(CURATED_TRANSACTIONS))
    days = sorted({date.fromisoformat(line[-1]) for line in lines})
    location = table_location(zones["curated"], CURATED_TRANSACTIONS)
    replace_partitions(frame, location, "sale_date", days, ["store_id"])
    stores = Path(table_location(zones["raw"], RAW_STORES))
    stores.mkdir(parents=True)
    (stores / "stores.csv").write_text("store_id,region\nS1,us-east\nS2,uk\n")
    return zones


def _analytics(zones: dict[str, str], days: list[date]) -> str:
    """An analytics zone per run of ``days``: a rerun of the same days writes over the first run."""
    return f"{zones['analytics']}/{days[0]}--{days[-1]}"


def _features(spark: Any, zones: dict[str, str], days: list[date]) -> dict[tuple[str, str], dict[str, Any]]:
    analytics = _analytics(zones, days)
    run(spark, curated_url=zones["curated"], raw_url=zones["raw"], analytics_url=analytics, days=days)
    written = spark.read.parquet(table_location(analytics, STORE_DAILY_FEATURES))
    return {(row.store_id, row.sale_date): row.asDict() for row in written.collect()}


@pytest.fixture(scope="module")
def hand_checked(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _lake(spark, tmp_path_factory.mktemp("hand-checked"), HAND_CHECKED)


@pytest.fixture(scope="module")
def july(spark: Any, hand_checked: dict[str, str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The features of 1-4 July, computed once for the tests that only read them."""
    return _features(spark, hand_checked, JULY[:4])


def test_hand_checked_values(july: dict[tuple[str, str], dict[str, Any]]) -> None:
    rows = july
    assert set(rows) == {
        *(("S1", f"2026-07-0{day}") for day in (1, 2, 4)),
        *(("S2", f"2026-07-0{day}") for day in (3, 4)),
    }
    second, fourth = rows["S1", "2026-07-02"], rows["S1", "2026-07-04"]
    assert (second["transactions"], second["units_sold"], second["revenue"]) == (1, 4, Decimal("20.00"))
    assert second["avg_basket_value"] == 20.0 and second["day_of_week"] == 4 and not second["is_weekend"]
    assert (second["revenue_lag_1d"], second["revenue_avg_7d"], second["revenue_avg_28d"]) == (
        10.0,
        10.0,
        10.0,
    )
    assert fourth["revenue"] == Decimal("40.00") and fourth["revenue_lag_1d"] is None  # the 3rd had no sales
    assert (
        fourth["revenue_avg_7d"] == 15.0
        and fourth["revenue_avg_28d"] == 15.0
        and fourth["revenue_lag_7d"] is None
    )
    assert (fourth["day_of_week"], fourth["is_weekend"], fourth["is_holiday"]) == (6, True, True)
    uk = rows["S2", "2026-07-04"]
    assert (uk["is_holiday"], uk["region"], uk["revenue_lag_1d"], uk["revenue_avg_7d"]) == (
        False,
        "uk",
        2.5,
        2.5,
    )
    first = rows["S1", "2026-07-01"]
    assert first["revenue_lag_1d"] is None and first["revenue_avg_7d"] is None


def test_no_leakage_from_the_target_day_or_later(
    spark: Any, hand_checked: dict[str, str], july: dict[tuple[str, str], dict[str, Any]]
) -> None:
    """The 5th's 1000.00 enters no feature of an earlier day, and no day's own revenue its past."""
    before = july
    with_fifth = _features(spark, hand_checked, JULY)
    assert {key: row for key, row in with_fifth.items() if key[1] < "2026-07-05"} == before
    fifth = with_fifth["S1", "2026-07-05"]
    assert fifth["revenue_lag_1d"] == 40.0 and fifth["revenue_avg_7d"] == pytest.approx(70 / 3)


def test_columns_and_types_equal_the_schema_module_and_partitions_are_days(
    spark: Any, hand_checked: dict[str, str], july: dict[tuple[str, str], dict[str, Any]]
) -> None:
    location = Path(table_location(_analytics(hand_checked, JULY[:4]), STORE_DAILY_FEATURES))
    partitions = sorted(path.name for path in location.iterdir() if path.is_dir())
    assert partitions == [f"sale_date={day.isoformat()}" for day in JULY[:4]]
    schema = spark.read.parquet(str(location / partitions[0])).schema
    assert [(field.name, field.dataType.simpleString()) for field in schema] == [
        (column.name, column.type) for column in STORE_DAILY_FEATURES.columns
    ]


def test_a_rerun_replaces_the_same_rows(spark: Any, hand_checked: dict[str, str]) -> None:
    first = _features(spark, hand_checked, JULY[:2])
    location = Path(table_location(_analytics(hand_checked, JULY[:2]), STORE_DAILY_FEATURES))
    files = sorted(path.parent.name for path in location.rglob("*.parquet"))
    assert _features(spark, hand_checked, JULY[:2]) == first
    assert sorted(path.parent.name for path in location.rglob("*.parquet")) == files  # replaced, not added


def test_a_target_day_without_transactions_is_a_clear_error(spark: Any, hand_checked: dict[str, str]) -> None:
    with pytest.raises(MissingInputDay, match=r"no curated transactions for 2026-07-06: run the Glue ingest"):
        _features(spark, hand_checked, [date(2026, 7, 5), date(2026, 7, 6)])


def test_the_step_exits_2_with_one_line_for_a_missing_day(
    hand_checked: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    zones = [f"--{zone}-url={url}" for zone, url in hand_checked.items() if zone != "analytics"]
    zones.append(f"--analytics-url={hand_checked['analytics']}/step")
    assert features_step.main([*zones, "--first-day=2026-07-06"]) == 2
    assert (
        capsys.readouterr().err
        == "features_step: no curated transactions for 2026-07-06: run the Glue ingest first\n"
    )
    assert features_step.main([*zones, "--first-day=2026-07-01", "--last-day=2026-07-02"]) == 0


def test_features_of_the_cleaned_sample_add_up_to_the_curated_sales(spark: Any, demo: Result) -> None:
    """The demo's EMR stage ran the step's computation on its Glue stage's output."""
    from pyspark.sql import functions as F

    curated = spark.read.parquet(table_location(str(demo.zones.curated), CURATED_TRANSACTIONS))
    written = spark.read.parquet(table_location(str(demo.zones.analytics), STORE_DAILY_FEATURES))
    features = written.where(F.col("revenue").isNotNull())  # the forecast row has no sales yet
    assert (
        len(demo.features) == features.count() == curated.select("store_id", "sale_date").distinct().count()
    )
    assert features.agg(F.sum("revenue")).first()[0] == curated.agg(F.sum("net_amount")).first()[0]
    assert features.where(F.col("region").isNull()).count() == 0


@pytest.mark.parametrize(
    ("year", "easter"), [(2024, date(2024, 3, 31)), (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28))]
)
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_market_holidays() -> None:
    assert date(2026, 11, 26) in holidays("us", 2026)  # fourth Thursday of November
    assert date(2026, 8, 31) in holidays("uk", 2026)  # last Monday of August
    assert date(2026, 4, 6) in holidays("eu", 2026) and date(2026, 5, 1) in holidays("eu", 2026)
    assert date(2026, 7, 4) not in holidays("uk", 2026)
    with pytest.raises(ValueError, match="unknown market 'apac'"):
        holidays("apac", 2026)


def test_a_store_listed_with_two_regions_is_a_clear_error(spark: Any, tmp_path: Path) -> None:
    from workloads.emr.features import read_store_regions

    stores = Path(table_location(str(tmp_path), RAW_STORES))
    stores.mkdir(parents=True)
    (stores / "a.csv").write_text("store_id,region\nS1,us-east\nS2,uk\n")
    (stores / "b.csv").write_text("store_id,region\nS1,us-east\nS2,eu-west\n")  # S1 repeated is fine
    with pytest.raises(ValueError, match=r"stores listed with more than one region: \['S2'\]"):
        read_store_regions(spark, str(tmp_path))


def test_the_pipeline_recomputes_earlier_days_without_transactions_as_history_it_lacks(
    hand_checked: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The pipeline's range ends on the run's date: only that day must have transactions. Earlier
    days without any (before the lake's first day) get no rows and do not stop the step."""
    zones = [f"--{zone}-url={url}" for zone, url in hand_checked.items() if zone != "analytics"]
    analytics = f"{hand_checked['analytics']}/range"
    zones.append(f"--analytics-url={analytics}")
    assert features_step.main([*zones, "--first-day=2026-06-29", "--last-day=2026-07-02"]) == 0
    location = Path(table_location(analytics, STORE_DAILY_FEATURES))
    assert sorted(path.parent.name for path in location.glob("*/*.parquet")) == [
        "sale_date=2026-07-01",
        "sale_date=2026-07-02",
        "sale_date=2026-07-03",  # the forecast row of the day after the run's
    ]
    capsys.readouterr()
    assert features_step.main([*zones, "--first-day=2026-06-29", "--last-day=2026-07-06"]) == 2
    assert (
        capsys.readouterr().err
        == "features_step: no curated transactions for 2026-07-06: run the Glue ingest first\n"
    )


def test_the_training_contract_knows_the_longest_lag() -> None:
    """train.py's history rule and the pipeline's feature window count on the EMR step's lags."""
    from workloads.emr.features import LAGS
    from workloads.sagemaker.contract import LONGEST_LAG_DAYS

    assert max(LAGS) == LONGEST_LAG_DAYS


def test_a_late_upload_recomputes_every_feature_day_that_reads_it(
    spark: Any, demo: Result, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over a copy of the demo's lake: store S001 re-sends its 2nd day with one more sale, the Glue
    transform runs that day alone, and the step runs for the last day only. It recomputes the 2nd day
    and every day whose lags and means read it (all later days, within the 28-day look-back), with
    the new revenue in them, and leaves the 1st day and every other store's values as they were."""
    from workloads.glue.transform import clean_days, write_days

    zones = {name: tmp_path / name for name in ("raw", "curated", "analytics")}
    for name, folder in zones.items():
        shutil.copytree(getattr(demo.zones, name), folder)  # copy2: the markers keep their times
    location = table_location(str(zones["analytics"]), STORE_DAILY_FEATURES)
    days = sorted(date.fromisoformat(day) for day in demo.features["sale_date"].unique())  # sold days
    before = written_days(spark, location, "sale_date")
    old = {(row.store_id, row.sale_date): row for row in spark.read.parquet(location).collect()}

    late = days[1]
    upload = next(zones["raw"].glob(f"transactions_csv/ingest_date={late}/S001_*"))
    extra = f"T{late:%Y%m%d}-99999,1,S001,P0001,{late}T17:00:00Z,1,9999.00,USD,card\n"
    upload.write_text(upload.read_text() + extra)
    write_days(clean_days(spark, str(zones["raw"]), [late]), str(zones["curated"]))
    capsys.readouterr()
    arguments = [f"--{name}-url={folder}" for name, folder in zones.items()]
    assert features_step.main([*arguments, f"--first-day={days[-1]}"]) == 0

    after = written_days(spark, location, "sale_date")
    assert [day for day in days if after[day] != before[day]] == days[1:]
    names = ", ".join(day.isoformat() for day in days[1:-1])
    assert capsys.readouterr().out.endswith(f"and the days whose inputs changed since: {names}\n")
    new = {(row.store_id, row.sale_date): row for row in spark.read.parquet(location).collect()}
    revenue = {day: float(new["S001", day.isoformat()].revenue) for day in days}
    assert revenue[late] == float(old["S001", late.isoformat()].revenue) + 9999
    assert new["S001", days[2].isoformat()].revenue_lag_1d == revenue[late]
    assert new["S001", days[8].isoformat()].revenue_lag_7d == revenue[late]
    assert new["S001", days[8].isoformat()].revenue_avg_7d == pytest.approx(
        sum(revenue[day] for day in days[1:8]) / 7
    )
    assert new.keys() == old.keys()
    assert all(new[key] == old[key] for key in old if key[0] != "S001" or key[1] == days[0].isoformat())


def test_a_curated_day_rewritten_during_a_run_leaves_the_days_that_read_it_stale(
    spark: Any, hand_checked: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Glue rerun of 2 July lands while the step computes 1-4 July: the features of 2-4 July may
    hold the old 2 July, so they count as never written and the next run computes them again."""
    from workloads.emr import features

    curated = tmp_path / "curated"
    shutil.copytree(hand_checked["curated"], curated)
    marker = next(curated.glob(f"{CURATED_TRANSACTIONS.prefix}sale_date=2026-07-02/{WRITTEN}"))
    compute = features.store_daily_features

    def rewritten_meanwhile(*args: Any, **kwargs: Any) -> Any:
        os.utime(marker, (time.time() + 5, time.time() + 5))
        return compute(*args, **kwargs)

    monkeypatch.setattr(features, "store_daily_features", rewritten_meanwhile)
    analytics = str(tmp_path / "analytics")
    run(spark, curated_url=str(curated), raw_url=hand_checked["raw"], analytics_url=analytics, days=JULY[:4])
    location = table_location(analytics, STORE_DAILY_FEATURES)
    assert sorted(written_days(spark, location, "sale_date")) == [date(2026, 7, 1)]
    changed = written_days(spark, table_location(str(curated), CURATED_TRANSACTIONS), "sale_date")
    assert features.stale_days(changed, written_days(spark, location, "sale_date"), JULY[3]) == JULY[1:4]


def test_the_forecast_row_holds_the_features_the_day_gets_once_sold(
    spark: Any, demo: Result, tmp_path: Path
) -> None:
    """Over the demo's lake without its last day's sales: a run for the day before writes the last
    day's forecast row (every store, actual columns empty); its features are exactly those the demo
    computed for that day from its sales, because they read only earlier days and the calendar. (A
    day that has sales, when an old date is run again, keeps its full row.)"""
    from pyspark.sql import functions as F

    sold = sorted(date.fromisoformat(day) for day in demo.features["sale_date"].unique())
    curated, analytics = tmp_path / "curated", tmp_path / "analytics"
    shutil.copytree(demo.zones.curated, curated)
    shutil.rmtree(Path(table_location(str(curated), CURATED_TRANSACTIONS)) / f"sale_date={sold[-1]}")
    run(
        spark,
        curated_url=str(curated),
        raw_url=str(demo.zones.raw),
        analytics_url=str(analytics),
        days=[sold[-2]],
        forecast=True,
    )
    written = spark.read.parquet(table_location(str(analytics), STORE_DAILY_FEATURES))
    row = written.where(F.col("sale_date") == sold[-1].isoformat()).toPandas().sort_values("store_id")
    actuals = ["transactions", "units_sold", "revenue", "avg_basket_value"]
    assert row[actuals].isna().all().all()
    real = demo.features[demo.features["sale_date"] == sold[-1].isoformat()].sort_values("store_id")
    assert list(row["store_id"]) == list(real["store_id"]) == sorted(demo.features["store_id"].unique())
    others = [c for c in row.columns if c not in actuals]
    pandas.testing.assert_frame_equal(
        row[others].reset_index(drop=True), real[others].reset_index(drop=True), check_dtype=False
    )
