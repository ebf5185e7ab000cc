"""Daily store features from the curated transactions, as plain PySpark (runs on EMR and locally).

For each target day and store with sales that day: transactions, units and revenue, the mean
basket, the calendar (ISO day of week, weekend, public holiday of the store's market), and the
revenue of the store's past: the day before, a week before, and the mean over the sale days among
the 7 and the 28 days before. The past is read by calendar day, never by row: a day without sales
leaves a lag empty and drops out of a mean, and nothing from the target day or later enters them
(no leakage). The job reads the curated partitions of the target days plus the 28 days before.

Late data: a run also recomputes every day up to its last whose inputs changed after its features
were written (:func:`stale_days`): a curated day D rewritten by a late upload or a rerun makes the
features of D and of the :data:`LOOKBACK_DAYS` after it stale, since their lags and means read D.
The lake tells when each day last changed (:func:`workloads.lake_io.written_days`), so no list of
changes is kept and a failed run leaves the days stale for the next; a curated day rewritten while a
run computes leaves the days that read it stale too. Only the partitions the target days read are
read, however far apart the targets are.

Every required target day (by default every target day; the pipeline requires its run's date)
must have curated transactions: a missing one raises :class:`MissingInputDay` naming the days (the
Glue ingest has not run for them), instead of writing features that silently lack a day. Any other
target day without transactions (before the lake's first day, a closed day, a day a rerun emptied)
gets no rows. Writing replaces exactly the target days' partitions, so a rerun gives the same rows.

The forecast row: the pipeline's run also writes the day after its date for every store with sales in
the days it read, with the actual columns empty (the Forecast step scores it; the next day's run
replaces it with the day's sales). Its features read only earlier days and the calendar, so they are
the ones the day will have.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, SparkSession, Window, WindowSpec
from pyspark.sql import functions as F

from workloads.emr.holidays import MARKETS, holidays
from workloads.lake_io import forget_days, read_table, replace_partitions, table_location, written_days
from workloads.schema import CURATED_TRANSACTIONS, RAW_STORES, STORE_DAILY_FEATURES

LAGS = (1, 7)
"""Days back of the revenue lags."""
AVERAGE_WINDOWS = (7, 28)
"""Lengths, in days before the target day, of the revenue means."""
LOOKBACK_DAYS = max(*LAGS, *AVERAGE_WINDOWS)
"""How many days before the first target day the job reads."""


class MissingInputDay(ValueError):
    """A target day has no curated transactions."""


def _inputs(day: date) -> list[date]:
    """The curated days the features of ``day`` read: the day and the :data:`LOOKBACK_DAYS` before."""
    return [day - timedelta(days=back) for back in range(LOOKBACK_DAYS + 1)]


def read_transactions(spark: SparkSession, curated_url: str, days: Sequence[date]) -> DataFrame:
    """Curated transactions of ``days`` and of the :data:`LOOKBACK_DAYS` before each of them (only
    those partitions: late days far apart do not make the read span the history between them)."""
    frame = read_table(spark, curated_url, CURATED_TRANSACTIONS)
    needed = sorted({day.isoformat() for target in days for day in _inputs(target)})
    return frame.where(F.col("sale_date").isin(*needed))


def read_store_regions(spark: SparkSession, raw_url: str) -> DataFrame:
    """``store_id`` -> ``region`` from the raw zone's store list (``stores/*.csv``; a store may be
    listed in several files, but always with the same region)."""
    stores = spark.read.option("header", "true").csv(table_location(raw_url, RAW_STORES))
    regions = stores.select(F.trim("store_id").alias("store_id"), F.trim("region").alias("region")).distinct()
    conflicts = regions.groupBy("store_id").count().where(F.col("count") > 1).collect()
    if conflicts:
        raise ValueError(
            f"stores listed with more than one region: {sorted(row.store_id for row in conflicts)}"
        )
    return regions


def daily_totals(transactions: DataFrame) -> DataFrame:
    """One row per store and sale day: distinct transactions, units sold, revenue."""
    return transactions.groupBy("store_id", "sale_date").agg(
        F.countDistinct("transaction_id").alias("transactions"),
        F.sum("quantity").cast("bigint").alias("units_sold"),
        F.sum("net_amount").cast(STORE_DAILY_FEATURES.column("revenue").type).alias("revenue"),
    )


def holiday_calendar(spark: SparkSession, first: date, last: date) -> DataFrame:
    """``market``, ``sale_date`` of every public holiday from ``first`` to ``last``."""
    rows = [
        (market, day.isoformat())
        for market in MARKETS
        for year in range(first.year, last.year + 1)
        for day in holidays(market, year)
        if first <= day <= last
    ]
    return spark.createDataFrame(rows, "market string, sale_date string")


def _past(revenue: Column, ordered: WindowSpec, start: int, end: int, how: str) -> Column:
    frame = ordered.rangeBetween(-start, -end)
    return (F.first(revenue) if how == "lag" else F.avg(revenue)).over(frame)


def store_daily_features(
    spark: SparkSession,
    transactions: DataFrame,
    regions: DataFrame,
    days: Sequence[date],
    *,
    required: Collection[date] | None = None,
    forecast_day: date | None = None,
) -> DataFrame:
    """The features of ``days``, columns and types as :data:`STORE_DAILY_FEATURES` declares;
    :class:`MissingInputDay` when a day of ``required`` (default: every day) has no transactions.
    With ``forecast_day``, also that day's forecast row for every store the transactions hold: a
    store without sales that day gets its features and empty actual columns (the same code, so the
    row the Forecast step scores equals the one the day gets once it has sold)."""
    totals = daily_totals(transactions)
    present = {row.sale_date for row in totals.select("sale_date").distinct().collect()}
    needed = days if required is None else required
    missing = sorted(day.isoformat() for day in needed if day.isoformat() not in present)
    if missing:
        raise MissingInputDay(f"no curated transactions for {', '.join(missing)}: run the Glue ingest first")
    if forecast_day is not None:
        sold = totals.where(F.col("sale_date") == forecast_day.isoformat()).select("store_id")
        unsold = totals.select("store_id").distinct().join(sold, "store_id", "left_anti")
        totals = totals.unionByName(
            unsold.withColumn("sale_date", F.lit(forecast_day.isoformat())), allowMissingColumns=True
        )
        days = [*days, forecast_day]

    day = F.to_date("sale_date")
    ordered = Window.partitionBy("store_id").orderBy(F.datediff(day, F.lit("1970-01-01")))
    revenue = F.col("revenue").cast("double")
    day_of_week = (F.dayofweek(day) + 5) % 7 + 1  # Spark counts from Sunday = 1; ISO from Monday
    calendar = holiday_calendar(spark, min(days), max(days)).withColumn("is_holiday", F.lit(True))
    features = (
        totals.join(regions, "store_id", "left")
        .withColumn("market", F.split("region", "-").getItem(0))
        .withColumn("avg_basket_value", revenue / F.col("transactions"))
        .withColumn("day_of_week", day_of_week)
        .withColumn("is_weekend", day_of_week >= 6)
        .select(
            "*",
            *(_past(revenue, ordered, n, n, "lag").alias(f"revenue_lag_{n}d") for n in LAGS),
            *(_past(revenue, ordered, n, 1, "avg").alias(f"revenue_avg_{n}d") for n in AVERAGE_WINDOWS),
        )
        .where(F.col("sale_date").isin(*(target.isoformat() for target in days)))
        .join(calendar, ["market", "sale_date"], "left")
        .withColumn("is_holiday", F.coalesce("is_holiday", F.lit(False)))
    )
    return features.select(
        *(
            F.col(column.name).cast(column.type).alias(column.name)
            for column in (*STORE_DAILY_FEATURES.columns, *STORE_DAILY_FEATURES.partition_keys)
        )
    )


def stale_days(changed: dict[date, int], computed: dict[date, int], last: date) -> list[date]:
    """The days up to ``last`` whose features are older than one of their inputs: for every curated
    day D (``changed``: day -> when it was last written), the days D to D + :data:`LOOKBACK_DAYS`
    whose features were written (``computed``) before D last changed, or never."""
    stale = {
        target
        for day, when in changed.items()
        for target in (day + timedelta(days=offset) for offset in range(LOOKBACK_DAYS + 1))
        if target <= last and computed.get(target, -1) <= when
    }
    return sorted(stale)


def write_features(features: DataFrame, analytics_url: str, days: Sequence[date]) -> None:
    """Replace the partitions of ``days`` in the analytics zone with ``features`` (a day without rows
    is emptied)."""
    location = table_location(analytics_url, STORE_DAILY_FEATURES)
    replace_partitions(features, location, "sale_date", days, ["store_id"])


def run(
    spark: SparkSession,
    *,
    curated_url: str,
    raw_url: str,
    analytics_url: str,
    days: Sequence[date],
    required: Collection[date] | None = None,
    forecast: bool = False,
) -> tuple[int, list[date]]:
    """Compute and write the features of ``days`` and of the :func:`stale_days` up to the last of them
    (``required``, default ``days``: see :func:`store_daily_features`), and with ``forecast`` the
    forecast row of the day after the last; the number of store-days written and the days computed
    (the forecast day not among them)."""
    curated = table_location(curated_url, CURATED_TRANSACTIONS)
    analytics = table_location(analytics_url, STORE_DAILY_FEATURES)
    changed = written_days(spark, curated, "sale_date")
    targets = sorted({*days, *stale_days(changed, written_days(spark, analytics, "sale_date"), max(days))})
    forecast_day = max(days) + timedelta(days=1) if forecast else None
    written_targets = [*targets, forecast_day] if forecast_day else targets
    features = store_daily_features(
        spark,
        read_transactions(spark, curated_url, written_targets),
        read_store_regions(spark, raw_url),
        targets,
        required=days if required is None else required,
        forecast_day=forecast_day,
    ).cache()
    try:
        write_features(features, analytics_url, written_targets)
        written = features.count()
    finally:
        features.unpersist()
    # A curated day rewritten while this run computed (a manual Glue rerun) may not be in what it
    # read: the days that read it count as never written, so the next run computes them again.
    moved = {
        day for day, when in written_days(spark, curated, "sale_date").items() if changed.get(day) != when
    }
    forget_days(spark, analytics, "sale_date", [t for t in written_targets if moved.intersection(_inputs(t))])
    return written, targets
