"""Inference handlers of the demand forecast for the SageMaker scikit-learn serving container.

The container calls ``model_fn`` once, then ``input_fn`` → ``predict_fn`` → ``output_fn`` per
request. Requests are JSON (``{"instances": [{feature: value, ...}]}`` or a bare list of such
objects) or CSV (one row per line, no header, values in the order of the model's features, an
empty field for an unknown lag). Every malformed request — empty or oversized body, unknown
content type, JSON nested too deeply, a CSV field over the csv module's size limit, an integer of
more than :data:`MAX_INT_DIGITS` digits, missing or unknown features, wrong types, values outside
their range — is answered with a 4xx status and a JSON body of one short line naming the problem;
nothing malformed reaches the model.

The image's model server (sagemaker-containers) answers any exception a handler raises with
HTTP 500, and only a response object returned by ``output_fn`` keeps its own status. So
``input_fn`` returns an :class:`InvalidRequest` instead of raising it, ``predict_fn`` passes it
on, and ``output_fn`` turns it into the 4xx response.

The feature names, types and allowed ranges come from the model bundle ``train.py`` wrote (the
ranges from the schema module's feature table), so this module imports nothing from the training
code and checks requests against exactly what the model was fitted on.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import reprlib
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
MAX_INT_DIGITS = 18
"""Longer integers are refused before they are converted: no feature comes near; past 309 digits a
float cannot hold one, and past 4300 Python refuses to convert it at all."""
MAX_REASON_CHARS = 200
"""The longest reason an error response gives; longer ones are cut."""
JSON = "application/json"
CSV = "text/csv"
NULLABLE = "float"
"""Lag and average features are floats and may be empty; calendar features are required."""
_INTEGER = re.compile(r"[+-]?[0-9]+")
_SHOWN = reprlib.Repr()
"""How a rejected value appears in a reason: short, and never recursing into nested lists."""
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother = 1, 40, 40


@dataclass(frozen=True)
class Inputs:
    """What the loaded model takes: each feature's type and its ``[minimum, maximum]`` (None: open)."""

    types: dict[str, str]
    ranges: dict[str, list[float | None]]


_LOADED: dict[str, Inputs] = {}
"""The loaded model's inputs: the container calls ``input_fn`` without the model."""


class InvalidRequest(ValueError):
    """A request the model cannot answer, with the 4xx status it deserves as ``status_code``; the
    message is kept to one line of at most :data:`MAX_REASON_CHARS` characters."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(" ".join(message.split())[:MAX_REASON_CHARS])
        self.status_code = status_code


def model_fn(model_dir: str) -> dict[str, Any]:
    """The bundle ``train.py`` saved: the regressor, its features with their types and ranges, the target."""
    bundle: dict[str, Any] = joblib.load(Path(model_dir) / MODEL_FILE)
    _LOADED["inputs"] = Inputs(bundle["features"], bundle["ranges"])
    return bundle


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _decode(body: bytes | str) -> str:
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidRequest(f"request body of {len(raw)} bytes exceeds {MAX_BODY_BYTES}", 413)
    if not raw.strip():
        raise InvalidRequest("empty request body")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRequest("request body is not UTF-8") from error


def _integer(text: str) -> int:
    """``text`` (an optionally signed run of digits) as an int, refused beyond :data:`MAX_INT_DIGITS`."""
    digits = len(text.lstrip("+-"))
    if digits > MAX_INT_DIGITS:
        raise InvalidRequest(f"an integer of {digits} digits exceeds {MAX_INT_DIGITS} digits")
    return int(text)


def _json_rows(text: str) -> list[Any]:
    try:
        document = json.loads(text, parse_int=_integer)
    except json.JSONDecodeError as error:
        raise InvalidRequest(f"malformed JSON: {error.msg} at line {error.lineno}") from error
    except RecursionError as error:  # the decoder recurses once per nested array or object
        raise InvalidRequest("JSON nested too deeply") from error
    rows = document.get("instances") if isinstance(document, dict) else document
    if not isinstance(rows, list):
        raise InvalidRequest('JSON must be a list of objects or {"instances": [...]}')
    return rows


def _csv_rows(text: str, features: list[str]) -> list[dict[str, Any]]:
    rows = []
    reader = csv.reader(io.StringIO(text))
    try:
        for values in reader:
            if not values:
                continue
            if len(values) != len(features):
                raise InvalidRequest(
                    f"CSV line {reader.line_num} has {len(values)} values, expected {len(features)}"
                )
            rows.append({name: _csv_value(value) for name, value in zip(features, values, strict=True)})
            _check_count(len(rows))  # stop reading at the limit, not after a million lines
    except csv.Error as error:  # a field over csv.field_size_limit(), for one
        raise InvalidRequest(f"malformed CSV at line {reader.line_num}: {error}") from error
    return rows


def _csv_value(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INTEGER.fullmatch(text):
        return _integer(text)
    try:
        return float(text)
    except ValueError:
        return text


def _check_count(rows: int) -> None:
    if rows > MAX_ROWS:
        raise InvalidRequest(f"more than {MAX_ROWS} rows, the limit per request", 413)


def _check(value: Any, kind: str) -> bool:
    if value is None:
        return kind == NULLABLE
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _outside(value: float, bounds: list[float | None]) -> str | None:
    """What ``value`` misses of ``[minimum, maximum]`` ("at least 0"), or None when within."""
    low, high = bounds
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    if low is not None and high is not None:
        return f"from {low:g} to {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def _validate(rows: list[Any], inputs: Inputs) -> pd.DataFrame:
    if not rows:
        raise InvalidRequest("no rows to predict")
    _check_count(len(rows))
    features = inputs.types
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
            value = row[name]
            if not _check(value, kind):
                raise InvalidRequest(f"row {index}: {name} must be {kind}, got {_SHOWN.repr(value)}")
            allowed = None if value is None else _outside(value, inputs.ranges[name])
            if allowed is not None:
                raise InvalidRequest(f"row {index}: {name} must be {allowed}, got {value}")
    return pd.DataFrame(rows, columns=list(features)).astype(float)


def input_fn(body: bytes | str, content_type: str) -> pd.DataFrame | InvalidRequest:
    """The request's rows as the loaded model's feature frame, or the problem with the request."""
    if "inputs" not in _LOADED:
        raise RuntimeError("model_fn has not loaded a model yet")
    try:
        return _parse(body, content_type, _LOADED["inputs"])
    except InvalidRequest as problem:
        return problem


def _parse(body: bytes | str, content_type: str, inputs: Inputs) -> pd.DataFrame:
    media = _media_type(content_type)
    if media not in (JSON, CSV):
        raise InvalidRequest(f"content type {_SHOWN.repr(content_type)} is not {JSON} or {CSV}", 415)
    text = _decode(body)
    rows = _json_rows(text) if media == JSON else _csv_rows(text, list(inputs.types))
    return _validate(rows, inputs)


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
