"""Workload fixtures: one local Spark session, one sample data set and one ETL run per test session;
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
        # A short-lived JVM on tiny data: the quick JIT tier and the serial collector start work
        # sooner (~10 % off the Spark tests here); neither changes what Spark computes.
        .config(
            "spark.driver.extraJavaOptions",
            "-Dlog4j2.level=error -XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        )
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


REGION = "eu-west-1"


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def moto(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server on a free port with boto3 pointed at it (for the module); its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch_module.setenv(name, value)
    yield url
    server.stop()


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
