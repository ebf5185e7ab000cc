"""Inference handlers of the demand forecast for the SageMaker scikit-learn serving container.

The container calls ``model_fn`` once, then ``input_fn`` → ``predict_fn`` → ``output_fn`` per
request. Requests are JSON (``{"instances": [{feature: value, ...}]}`` or a bare list of such
objects) or CSV (one row per line, no header, values in the order of the model's features, an
empty field for an unknown lag). Every malformed request — empty or oversized body, unknown
content type, missing or unknown features, wrong types — is answered with a 4xx status and a JSON
body of one line naming the problem; nothing malformed reaches the model.

The image's model server (sagemaker-containers) answers any exception a handler raises with
HTTP 500, and only a response object returned by ``output_fn`` keeps its own status. So
``input_fn`` returns an :class:`InvalidRequest` instead of raising it, ``predict_fn`` passes it
on, and ``output_fn`` turns it into the 4xx response.

The feature names and types come from the model bundle ``train.py`` wrote, so this module imports
nothing from the training code and checks requests against exactly what the model was fitted on.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

MODEL_FILE = "model.joblib"
MAX_BODY_BYTES = 1024 * 1024
"""Requests above 1 MiB are refused; a day's forecast for every store is a few kilobytes."""
MAX_ROWS = 1000
JSON = "application/json"
CSV = "text/csv"
NULLABLE = "float"
"""Lag and average features are floats and may be empty; calendar features are required."""
_LOADED: dict[str, dict[str, str]] = {}
"""The loaded model's features: the container calls ``input_fn`` without the model."""


class InvalidRequest(ValueError):
    """A request the model cannot answer, with the 4xx status it deserves as ``status_code``."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


def model_fn(model_dir: str) -> dict[str, Any]:
    """The bundle ``train.py`` saved: the regressor, its features with their types, the target."""
    bundle: dict[str, Any] = joblib.load(Path(model_dir) / MODEL_FILE)
    _LOADED["features"] = bundle["features"]
    return bundle


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _decode(body: bytes | str) -> str:
    raw = body.encode() if isinstance(body, str) else bytes(body)
    if not raw.strip():
        raise InvalidRequest("empty request body")
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidRequest(f"request body of {len(raw)} bytes exceeds {MAX_BODY_BYTES}", 413)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRequest("request body is not UTF-8") from error


def _json_rows(text: str) -> list[Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidRequest(f"malformed JSON: {error.msg} at line {error.lineno}") from error
    rows = document.get("instances") if isinstance(document, dict) else document
    if not isinstance(rows, list):
        raise InvalidRequest('JSON must be a list of objects or {"instances": [...]}')
    return rows


def _csv_rows(text: str, features: list[str]) -> list[dict[str, Any]]:
    rows = []
    for number, values in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not values:
            continue
        if len(values) != len(features):
            raise InvalidRequest(f"CSV line {number} has {len(values)} values, expected {len(features)}")
        rows.append({name: _csv_value(value) for name, value in zip(features, values, strict=True)})
    return rows


def _csv_value(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _check(value: Any, kind: str) -> bool:
    if value is None:
        return kind == NULLABLE
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _validate(rows: list[Any], features: dict[str, str]) -> pd.DataFrame:
    if not rows:
        raise InvalidRequest("no rows to predict")
    if len(rows) > MAX_ROWS:
        raise InvalidRequest(f"{len(rows)} rows exceed the limit of {MAX_ROWS} per request", 413)
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidRequest(f"row {index} is not an object of feature values")
        missing = [name for name in features if name not in row]
        if missing:
            raise InvalidRequest(f"row {index} lacks features {', '.join(missing)}")
        unknown = sorted(set(row) - set(features))
        if unknown:
            raise InvalidRequest(f"row {index} has unknown fields {', '.join(unknown)}")
        for name, kind in features.items():
            if not _check(row[name], kind):
                raise InvalidRequest(f"row {index}: {name} must be {kind}, got {row[name]!r}")
    return pd.DataFrame(rows, columns=list(features)).astype(float)


def input_fn(body: bytes | str, content_type: str) -> pd.DataFrame | InvalidRequest:
    """The request's rows as the loaded model's feature frame, or the problem with the request."""
    if "features" not in _LOADED:
        raise RuntimeError("model_fn has not loaded a model yet")
    try:
        return _parse(body, content_type, _LOADED["features"])
    except InvalidRequest as problem:
        return problem


def _parse(body: bytes | str, content_type: str, features: dict[str, str]) -> pd.DataFrame:
    media = _media_type(content_type)
    if media not in (JSON, CSV):
        raise InvalidRequest(f"content type {content_type!r} is not {JSON} or {CSV}", 415)
    text = _decode(body)
    rows = _json_rows(text) if media == JSON else _csv_rows(text, list(features))
    return _validate(rows, features)


def predict_fn(frame: pd.DataFrame | InvalidRequest, model: dict[str, Any]) -> np.ndarray | InvalidRequest:
    """Forecast revenue for each row; a request problem passes through to :func:`output_fn`."""
    if isinstance(frame, InvalidRequest):
        return frame
    expected = list(model["features"])
    if list(frame.columns) != expected:
        return InvalidRequest(f"features {list(frame.columns)} differ from the model's {expected}")
    predictions: np.ndarray = model["model"].predict(frame)
    return predictions


def output_fn(predictions: np.ndarray | InvalidRequest, accept: str | None) -> Any:
    """Forecasts as JSON (``{"predictions": [...]}``) or CSV (one per line), or the 4xx answer."""
    if isinstance(predictions, InvalidRequest):
        return error_response(predictions)
    media = _accepted(accept)
    if media is None:
        return error_response(InvalidRequest(f"accept type {accept!r} is not {JSON} or {CSV}", 406))
    rounded = [round(float(value), 2) for value in predictions]
    if media == JSON:
        return json.dumps({"predictions": rounded}), JSON
    return "".join(f"{value}\n" for value in rounded), CSV


def _accepted(accept: str | None) -> str | None:
    """The first of JSON and CSV the Accept header allows (JSON when there is none)."""
    for part in (accept or JSON).split(","):
        media = _media_type(part)
        if media in (JSON, CSV):
            return media
        if media in ("*/*", "application/*"):
            return JSON
    return None


def error_response(problem: InvalidRequest) -> Any:
    """The model server's response object with the problem's status and a one-line JSON body."""
    body = json.dumps({"error": str(problem)})
    try:
        from sagemaker_containers.beta.framework import worker  # the image's model server
    except ImportError:
        return ErrorResponse(body, problem.status_code)
    return worker.Response(response=body, status=problem.status_code, mimetype=JSON)


@dataclass(frozen=True)
class ErrorResponse:
    """Stand-in for the model server's response object where that server is not installed."""

    response: str
    status: int
    mimetype: str = JSON
