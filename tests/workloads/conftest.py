"""Workload fixtures: one local Spark session, one sample data set and one demo run (its Glue stage is
the ETL run of the Glue tests) per test session;
moto's server and a stand-in CloudFormation for the custom resource functions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from demo.pipeline import Result
from workloads.sample_data import Report, generate

SAMPLE = {"stores": 6, "days": 9, "start": date(2026, 3, 6), "dirty_share": 0.05, "transactions_per_day": 12}
"""Small enough for seconds, large enough that every dirty kind occurs several times; 9 days are the
fewest a model trains on (the 7-day lag first has a value on the 8th day, the 9th is held out)."""


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The local Spark session of the workloads, with the quick JVM settings of a short-lived test run."""
    from demo.spark import QUICK_JVM, local_session

    session = local_session("workload-tests", java_options=QUICK_JVM)
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

    @property
    def unreadable_day(self) -> date:
        """The ingest day the generator puts its one unreadable file into."""
        return self.days[len(self.days) // 2]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    raw = tmp_path_factory.mktemp("raw")
    return Sample(raw, generate(raw, **SAMPLE))


@pytest.fixture(scope="session")
def demo_progress() -> list[str]:
    """The progress lines of the session's demo run."""
    return []


@pytest.fixture(scope="session")
def demo(spark: Any, demo_progress: list[str], tmp_path_factory: pytest.TempPathFactory) -> Result:
    """The demo's whole data path, run once on the sample's sizes with the last day held out; the
    Glue, EMR and demo tests read what its stages wrote."""
    from demo import pipeline

    sizes = pipeline.Sizes(**SAMPLE, validation_days=1)
    return pipeline.run(spark, sizes, tmp_path_factory.mktemp("demo"), demo_progress.append)


@dataclass(frozen=True)
class EtlRun:
    """Every sample day cleaned and written once into ``curated``; the per-day counts."""

    curated: Path
    counts: dict[date, dict[str, int]]


@pytest.fixture(scope="session")
def etl(demo: Result) -> EtlRun:
    """The demo's Glue stage: the sample's days cleaned into its curated zone."""
    return EtlRun(demo.zones.curated, demo.counts)


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP endpoint standing in for CloudFormation's pre-signed response URL; the URL
    and the answers it received."""
    responses: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            responses.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/response", responses
    server.shutdown()


def custom_resource_event(
    request: str, url: str, properties: dict[str, str], physical_id: str | None = None, *, logical_id: str
) -> dict[str, Any]:
    """A CloudFormation custom resource request as Lambda receives it."""
    event: dict[str, Any] = {
        "RequestType": request,
        "ResponseURL": url,
        "StackId": "stack",
        "RequestId": "request",
        "LogicalResourceId": logical_id,
        "ResourceProperties": properties,
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event
