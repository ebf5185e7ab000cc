"""The platform's data path, run locally stage by stage with the very modules the stacks ship.

``generate`` writes the seeded sample raw zone; ``glue`` cleans the ingest days with the Glue job's
transform (quarantine included) and ``quality`` stages, checks and publishes them as the job does
(its data-quality rules judge the clean lines, and only then are they written);
``emr`` runs the EMR step's feature computation, forecast row included; ``train`` runs ``train.py``
through SageMaker's script-mode contract (``SM_*`` paths as arguments); ``forecast`` runs the
Forecast step's script on every held-out day and on the forecast row's day, writing
``store_forecasts`` (through the endpoint's inference handlers), and reads them against the actuals
through the lake's views, with the SQL Athena runs. Every stage reads what the one before wrote, in
one folder per zone, and :func:`run` times each of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workloads.sagemaker.contract import TRAINING_DAYS
from workloads.sample_data import Report, generate

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

    from workloads.glue.quality_check import Outcome
    from workloads.glue.transform import CleanedDays

STAGES = ("generate", "glue", "quality", "emr", "train", "forecast")
"""The stages in the order they run; their names label progress, timings and the report."""
FRESHNESS_HOURS = 36
"""The freshness rule as prod configures it, checked at the end of the last generated day."""

Progress = Callable[[str], None]
"""Receives one line of progress per event (a stage starting, a day cleaned, a stage done)."""


@dataclass(frozen=True)
class Sizes:
    """How much sample data to generate and how many of its last days to hold out for scoring."""

    stores: int = 8
    days: int = 28
    start: date = date(2026, 1, 5)
    dirty_share: float = 0.02
    transactions_per_day: int = 40
    validation_days: int = 7
    hyperparameters: tuple[str, ...] = ()
    """Extra ``train.py`` arguments (``--max_iter 50`` ...); its defaults otherwise."""

    def __post_init__(self) -> None:
        most = self.days - TRAINING_DAYS
        if most < 1:
            raise ValueError(f"days must be at least {TRAINING_DAYS + 1}, got {self.days}")
        if not 1 <= self.validation_days <= most:
            raise ValueError(
                f"validation days must be 1 to {most} for {self.days} days (training needs the first "
                f"{TRAINING_DAYS}), got {self.validation_days}"
            )


@dataclass(frozen=True)
class Zones:
    """One local folder per lake zone and SageMaker location, under ``root``."""

    root: Path

    @property
    def raw(self) -> Path:
        """The raw zone the generator writes."""
        return self.root / "raw"

    @property
    def curated(self) -> Path:
        """The curated zone the Glue transform writes."""
        return self.root / "curated"

    @property
    def analytics(self) -> Path:
        """The analytics zone the EMR step writes."""
        return self.root / "analytics"

    @property
    def model(self) -> Path:
        """``SM_MODEL_DIR``: the model bundle and its serving code."""
        return self.root / "model"

    @property
    def output(self) -> Path:
        """``SM_OUTPUT_DATA_DIR``: the training job's evaluation."""
        return self.root / "output"


@dataclass(frozen=True)
class Result:
    """What every stage produced: the generator's report, rows kept and quarantined per ingest day,
    the data-quality outcomes, the features, the training evaluation, the forecast of every held-out
    store-day (actual, model, naive), the forecast row's day and its forecasts, the WAPE per day
    (``forecast_accuracy``) and the seconds each stage took."""

    zones: Zones
    report: Report
    counts: dict[date, dict[str, int]]
    quality: list[Outcome]
    features: pd.DataFrame
    evaluation: dict[str, Any]
    forecast: pd.DataFrame
    next_day: pd.DataFrame
    accuracy: pd.DataFrame
    seconds: dict[str, float]


def glue(
    spark: SparkSession, zones: Zones, days: list[date], progress: Progress
) -> tuple[CleanedDays, dict[date, dict[str, int]]]:
    """Clean the ingest days as one run of the Glue job does (nothing written yet); the cleaned days
    and their kept and quarantined lines per reason, per day."""
    from workloads.glue.transform import clean_days

    result = clean_days(spark, str(zones.raw), days)
    counts = result.counts()
    for number, (day, day_counts) in enumerate(counts.items(), start=1):
        progress(f"glue: ingest_date {day} ({number}/{len(days)}): {day_counts['kept']} lines kept")
    return result, counts


def quality(zones: Zones, cleaned: CleanedDays) -> list[Outcome]:
    """The ETL job's data-quality gate on the cleaned days, with prod's freshness rule evaluated at the
    end of the last day (as a run just after midnight would), then publishing them as the job does;
    the rules' outcomes. A failed rule raises :class:`~workloads.glue.transform.GateFailed` with
    nothing published."""
    from workloads.glue import quality as rules
    from workloads.glue.quality_check import evaluate
    from workloads.glue.transform import publish_days

    now = datetime.combine(cleaned.days[-1] + timedelta(days=1), clock())
    outcomes: list[Outcome] = []

    def gate(staged: DataFrame) -> list[str]:
        outcomes.extend(evaluate(rules.table_rules(freshness_hours=FRESHNESS_HOURS), staged, now))
        return [f"{outcome.rule}: {outcome.reason}" for outcome in outcomes if not outcome.passed]

    publish_days(cleaned, str(zones.curated), gate)
    cleaned.release()
    return outcomes


def emr(spark: SparkSession, zones: Zones, days: list[date]) -> pd.DataFrame:
    """Compute and write the days' store features as the EMR step does; the written rows."""
    from workloads.emr.features import run
    from workloads.sagemaker.train import load_features

    run(
        spark,
        curated_url=str(zones.curated),
        raw_url=str(zones.raw),
        analytics_url=str(zones.analytics),
        days=days,
        forecast=True,
    )
    frame: pd.DataFrame = load_features(str(zones.analytics))
    return frame.sort_values(["sale_date", "store_id"], ignore_index=True)


def train(zones: Zones, sizes: Sizes) -> dict[str, Any]:
    """Run ``train.py`` as the training job does (channel and output paths as arguments); its evaluation."""
    from workloads.sagemaker import train as training

    paths = {"features": zones.analytics, "model_dir": zones.model, "output_data_dir": zones.output}
    arguments = [f"--{name}={path}" for name, path in paths.items()]
    code = training.main([*arguments, f"--validation_days={sizes.validation_days}", *sizes.hyperparameters])
    if code != 0:
        raise RuntimeError(f"train.py exited with {code} (its message is above)")
    evaluation: dict[str, Any] = json.loads((zones.output / training.EVALUATION_FILE).read_text())
    return evaluation


MODEL_VERSION = 1
"""The demo's model, as the first package version the registry would approve."""


def forecast(
    spark: SparkSession, zones: Zones, features: pd.DataFrame, first_validation_day: str, next_day: date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Score the held-out days and ``next_day`` (the forecast row) as the Forecast step does, into
    ``store_forecasts``; then, through the lake's views: every held-out store-day with its actual
    revenue, forecast and the seasonal naive forecast training scores against (the revenue a week
    before; empty where there is none), ``next_day``'s forecasts, and the WAPE per day."""
    from workloads.lake_io import read_view
    from workloads.sagemaker.forecast import forecast_day
    from workloads.sagemaker.train import NAIVE_FEATURE
    from workloads.schema import (
        FORECAST_ACCURACY,
        FORECASTS_VS_ACTUALS,
        STORE_DAILY_FEATURES,
        STORE_FORECASTS,
    )

    held_out = sorted(day for day in features["sale_date"].unique() if day >= first_validation_day)
    for day in [*held_out, next_day.isoformat()]:
        forecast_day(
            zones.analytics / STORE_DAILY_FEATURES.prefix / f"sale_date={day}",
            zones.model,
            zones.analytics / STORE_FORECASTS.prefix / f"forecast_date={day}",
            model_version=MODEL_VERSION,
            run_id="demo",
        )
    view: pd.DataFrame = read_view(spark, str(zones.analytics), FORECASTS_VS_ACTUALS).toPandas()
    compared = view.rename(columns={"forecast_date": "sale_date"})
    naive = features[["store_id", "sale_date", NAIVE_FEATURE]].rename(columns={NAIVE_FEATURE: "naive"})
    sold = compared[compared["actual"].notna()].merge(naive, on=["store_id", "sale_date"], how="left")
    columns = ["store_id", "sale_date", "actual", "forecast", "naive"]
    sold = sold.sort_values(["sale_date", "store_id"], ignore_index=True)[columns]
    upcoming = compared[compared["sale_date"] == next_day.isoformat()]
    accuracy: pd.DataFrame = read_view(spark, str(zones.analytics), FORECAST_ACCURACY).toPandas()
    return (
        sold.astype({"naive": float}),
        upcoming.sort_values("store_id", ignore_index=True)[["store_id", "sale_date", "forecast"]],
        accuracy.sort_values(["forecast_date", "model_version"], ignore_index=True),
    )


@contextmanager
def _stage(name: str, seconds: dict[str, float], progress: Progress) -> Iterator[None]:
    """Announce stage ``name``, time it into ``seconds`` and announce its end."""
    number = f"[{STAGES.index(name) + 1}/{len(STAGES)}]"
    progress(f"{number} {name} ...")
    started = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - started
    progress(f"{number} {name} done in {seconds[name]:.1f} s")


def run(spark: SparkSession, sizes: Sizes, root: Path, progress: Progress = lambda _line: None) -> Result:
    """Run every stage on ``sizes`` of sample data in folders under ``root``; what they produced."""
    zones, seconds = Zones(root), dict[str, float]()
    with _stage("generate", seconds, progress):
        report = generate(
            zones.raw,
            stores=sizes.stores,
            days=sizes.days,
            start=sizes.start,
            dirty_share=sizes.dirty_share,
            transactions_per_day=sizes.transactions_per_day,
        )
    days = [sizes.start + timedelta(days=offset) for offset in range(sizes.days)]
    with _stage("glue", seconds, progress):
        cleaned, counts = glue(spark, zones, days, progress)
    with _stage("quality", seconds, progress):
        outcomes = quality(zones, cleaned)
    with _stage("emr", seconds, progress):
        features = emr(spark, zones, days)
    with _stage("train", seconds, progress):
        evaluation = train(zones, sizes)
    with _stage("forecast", seconds, progress):
        next_day = days[-1] + timedelta(days=1)
        forecasts, upcoming, accuracy = forecast(
            spark, zones, features, evaluation["first_validation_day"], next_day
        )
    return Result(
        zones, report, counts, outcomes, features, evaluation, forecasts, upcoming, accuracy, seconds
    )
