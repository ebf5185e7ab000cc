"""Score one day's store features with an approved model and write them to ``store_forecasts``.

The Forecast step runs this in a SageMaker processing job (the scikit-learn image, network
isolation) and ``make demo`` runs it locally; both call :func:`main`:

    python -m workloads.sagemaker.forecast --features <the day's store_daily_features folder> \\
        --model <model.tar.gz, or a folder with it or with model.joblib> \\
        --output <store_forecasts/forecast_date=<day>/> --day 2026-03-09 --model-version 3 --run-id <run>

Every row of the day's partition (the pipeline's forecast row, or a day already sold when a day is
scored again) goes through the endpoint's own handlers (``inference.input_fn``, ``predict_fn``,
``output_fn``) as JSON requests, so a forecast here is what the endpoint would answer. The answer is
written as ``model-<version>.parquet`` in ``--output``: scoring the day again with the same version
replaces exactly that file, another version's file stays beside it. A day without feature rows, or a
model that refuses them, exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workloads.sagemaker import inference
from workloads.schema import STORE_FORECASTS

MODEL_ARCHIVE = "model.tar.gz"
ARROW_TYPES = {"string": pa.string(), "double": pa.float64(), "int": pa.int32()}
SCHEMA = pa.schema([(column.name, ARROW_TYPES[column.type]) for column in STORE_FORECASTS.columns])
"""The Parquet schema of a forecast file, from the schema module."""


class ForecastInputError(ValueError):
    """The day cannot be scored: no feature rows, unreadable files, or a model that refuses them."""


def file_name(model_version: int) -> str:
    """The file of one model version's forecasts in a day's partition."""
    return f"model-{model_version}.parquet"


def read_day(folder: Path) -> pd.DataFrame:
    """The feature rows in ``folder`` (one day's partition: Parquet files and markers)."""
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise ForecastInputError(f"no feature rows in {folder}")
    try:
        frame: pd.DataFrame = pa.concat_tables(pq.read_table(file) for file in files).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as error:
        raise ForecastInputError(f"cannot read the features in {folder}: {error}") from error
    if frame.empty:
        raise ForecastInputError(f"no feature rows in {folder}")
    return frame


def load_model(path: Path, scratch: Path) -> dict[str, Any]:
    """The model bundle at ``path``: a folder with ``model.joblib``, or the training job's
    ``model.tar.gz`` (or a folder holding it), unpacked into ``scratch``."""
    archive = path / MODEL_ARCHIVE if path.is_dir() else path
    if archive.is_file():
        with tarfile.open(archive) as bundle:
            bundle.extractall(scratch, filter="data")
        path = scratch
    if not (path / inference.MODEL_FILE).is_file():
        raise ForecastInputError(f"no {inference.MODEL_FILE} or {MODEL_ARCHIVE} at {path}")
    return inference.model_fn(str(path))


def score(features: pd.DataFrame, model: dict[str, Any], *, model_version: int, run_id: str) -> pd.DataFrame:
    """One forecast per feature row, from the handlers' JSON answers, with its provenance; columns as
    :data:`~workloads.schema.STORE_FORECASTS` declares, sorted by store."""
    answers: list[float] = []
    names = list(model["features"])
    for start in range(0, len(features), inference.MAX_ROWS):
        rows = features.iloc[start : start + inference.MAX_ROWS][names]
        body = json.dumps({"instances": json.loads(rows.to_json(orient="records"))})
        predictions = inference.predict_fn(inference.input_fn(body, inference.JSON), model)
        if isinstance(predictions, inference.InvalidRequest):
            raise ForecastInputError(f"the model refused the features: {predictions}")
        text, _ = inference.output_fn(predictions, inference.JSON)
        answers += json.loads(text)["predictions"]
    frame = pd.DataFrame(
        {
            "store_id": features["store_id"].astype(str),
            "forecast": answers,
            "model_version": model_version,
            "run_id": run_id,
        }
    )
    return frame.sort_values("store_id", ignore_index=True)


def write(forecasts: pd.DataFrame, output: Path, model_version: int) -> Path:
    """Write (or replace) ``model-<version>.parquet`` in ``output``, the day's partition folder."""
    output.mkdir(parents=True, exist_ok=True)
    target = output / file_name(model_version)
    pq.write_table(pa.Table.from_pandas(forecasts, schema=SCHEMA, preserve_index=False), target)
    return target


def forecast_day(
    features: Path, model: Path, output: Path, *, model_version: int, run_id: str
) -> pd.DataFrame:
    """Score the day in ``features`` with the model at ``model`` and write it to ``output``; the
    forecasts written."""
    with tempfile.TemporaryDirectory(prefix="forecast-model-") as scratch:
        bundle = load_model(model, Path(scratch))
    forecasts = score(read_day(features), bundle, model_version=model_version, run_id=run_id)
    write(forecasts, output, model_version)
    return forecasts


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="forecast", description=__doc__.splitlines()[0])
    parser.add_argument("--features", required=True, type=Path, help="the day's feature partition folder")
    parser.add_argument("--model", required=True, type=Path, help="model.tar.gz or a folder with the model")
    parser.add_argument("--output", required=True, type=Path, help="the day's store_forecasts folder")
    parser.add_argument("--day", required=True, type=date.fromisoformat, help="the day forecast, yyyy-mm-dd")
    parser.add_argument("--model-version", required=True, type=int, help="the model package's version")
    parser.add_argument("--run-id", required=True, help="the run that makes the forecast")
    arguments = parser.parse_args(argv)
    if arguments.model_version < 1:
        parser.error(f"--model-version must be at least 1, got {arguments.model_version}")
    return arguments


def main(argv: list[str]) -> int:
    """Run with ``argv`` (without the program name); the exit status."""
    arguments = _arguments(argv)
    try:
        forecasts = forecast_day(
            arguments.features,
            arguments.model,
            arguments.output,
            model_version=arguments.model_version,
            run_id=arguments.run_id,
        )
    except ForecastInputError as error:
        print(f"forecast: {arguments.day}: {error}", file=sys.stderr)
        return 2
    print(f"forecast: {len(forecasts)} stores for {arguments.day} by model version {arguments.model_version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
