"""Workload fixtures: one local Spark session, one sample data set and one ETL run per test session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from workloads.sample_data import Report, generate

SAMPLE = {"stores": 6, "days": 3, "start": date(2026, 3, 6), "dirty_share": 0.05, "transactions_per_day": 12}
"""Small enough for seconds, large enough that every dirty kind occurs several times."""


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local Spark session configured as the Glue and EMR jobs configure their own."""
    from pyspark.sql import SparkSession

    from workloads.lake_io import SESSION_CONF

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("workload-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=error")
    )
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@dataclass(frozen=True)
class Sample:
    """The generated raw zone and its report."""

    raw: Path
    report: Report

    @property
    def days(self) -> list[date]:
        start = date.fromisoformat(self.report.start)
        return [start + timedelta(days=offset) for offset in range(self.report.days)]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    raw = tmp_path_factory.mktemp("raw")
    return Sample(raw, generate(raw, **SAMPLE))


@dataclass(frozen=True)
class EtlRun:
    """Every sample day cleaned and written once into ``curated``; the per-day counts."""

    curated: Path
    counts: dict[date, dict[str, int]]


@pytest.fixture(scope="session")
def etl(spark: Any, sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> EtlRun:
    from workloads.glue.transform import clean_day, write_day

    curated = tmp_path_factory.mktemp("curated")
    counts = {}
    for day in sample.days:
        result = clean_day(spark, str(sample.raw), day)
        write_day(result, str(curated))
        counts[day] = result.counts()
        result.release()
    return EtlRun(curated, counts)
