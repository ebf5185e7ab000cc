"""The forecast workload: script-mode training on generated features, then serving through the handlers."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sklearn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.workloads.forecast_features import store_daily_features, week_before, write_features
from workloads.sagemaker import contract, forecast, inference, train
from workloads.schema import STORE_DAILY_FEATURES, STORE_FORECASTS

MARGIN = 0.1
"""The model must make at least 10 % less error (WAPE) than the seasonal naive forecast ("same as a
week before") on the held-out days; it makes about 17 % less."""
VALIDATION_DAYS = 14


@dataclass(frozen=True)
class Trained:
    model_dir: Path
    output_dir: Path
    stdout: str
    evaluation: dict[str, Any]


def run_training(
    monkeypatch: pytest.MonkeyPatch, root: Path, features: Path, *args: str
) -> tuple[int, Path, Path]:
    """Run ``train.main`` as the container does: SM_* variables set, hyperparameters as arguments."""
    model_dir, output_dir = root / "model", root / "output" / "data"
    monkeypatch.setenv("SM_CHANNEL_FEATURES", str(features))
    monkeypatch.setenv("SM_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("SM_OUTPUT_DATA_DIR", str(output_dir))
    return train.main(list(args)), model_dir, output_dir


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("training")
    features = write_features(store_daily_features(), root / "features")
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(stdout):
        code, model_dir, output_dir = run_training(
            monkeypatch, root, features, "--max_iter", "150", "--validation_days", str(VALIDATION_DAYS)
        )
    assert code == 0
    evaluation = json.loads((output_dir / train.EVALUATION_FILE).read_text())
    return Trained(model_dir, output_dir, stdout.getvalue(), evaluation)


@pytest.fixture(scope="module")
def model(trained: Trained) -> dict[str, Any]:
    return inference.model_fn(str(trained.model_dir))


def test_the_model_carries_its_serving_code(trained: Trained) -> None:
    shipped = trained.model_dir / contract.CODE_DIR / "inference.py"
    assert shipped.read_bytes() == Path(inference.__file__).read_bytes()


def test_local_scikit_learn_is_the_images_version() -> None:
    assert sklearn.__version__.startswith(train.IMAGE_VERSION.split("-")[0] + ".")


def held_out(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the last :data:`VALIDATION_DAYS` sale days of ``frame``."""
    days = sorted(frame["sale_date"].unique())
    return frame[frame["sale_date"] >= days[-VALIDATION_DAYS]]


def wape_of(actual: Any, predicted: Any) -> float:
    """WAPE, written out here rather than taken from ``train``."""
    actual, predicted = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    return float(np.abs(actual - predicted).sum() / actual.sum())


def test_model_beats_the_seasonal_naive_forecast_by_the_margin(trained: Trained) -> None:
    evaluation = trained.evaluation
    assert evaluation["wape"] <= evaluation["naive_wape"] * (1 - MARGIN), evaluation


def test_the_baseline_is_the_seasonal_naive_forecast_of_the_held_out_rows(trained: Trained) -> None:
    frame = store_daily_features()
    rows = held_out(frame)
    naive = week_before(frame, rows)
    assert not np.isnan(naive).any() and trained.evaluation["scored_rows"] == len(rows)
    assert trained.evaluation["naive_wape"] == pytest.approx(wape_of(rows["revenue"], naive))


def test_model_and_baseline_are_scored_on_the_same_rows() -> None:
    """Held-out rows without a week before (a store closed that week) are scored for neither."""
    frame = store_daily_features()
    unknown = held_out(frame).index[:20]
    frame.loc[unknown, "revenue_lag_7d"] = np.nan
    arguments = ["--max_iter", "50", "--validation_days", str(VALIDATION_DAYS)]
    model, evaluation = train.train(
        frame, train.parse_args([*arguments, "--features", "f", "--model_dir", "m", "--output_data_dir", "o"])
    )
    scored = held_out(frame).drop(unknown)
    assert (evaluation.validation_rows, evaluation.scored_rows) == (len(scored) + 20, len(scored))
    assert evaluation.wape == pytest.approx(
        wape_of(scored["revenue"], model.predict(train.as_model_input(scored)))
    )
    assert evaluation.naive_wape == pytest.approx(wape_of(scored["revenue"], week_before(frame, scored)))


def test_split_is_by_time(trained: Trained) -> None:
    days = sorted({row for row in store_daily_features()["sale_date"]})
    evaluation = trained.evaluation
    assert evaluation["first_validation_day"] == days[-VALIDATION_DAYS]
    assert evaluation["validation_rows"] == 6 * VALIDATION_DAYS
    assert evaluation["training_rows"] == 6 * (len(days) - VALIDATION_DAYS)


def test_metric_lines_match_the_jobs_metric_definitions(trained: Trained) -> None:
    """The gate reads both evaluation metrics from the log lines the job's definitions match."""
    for name, key in zip(contract.EVALUATION_METRICS, ("wape", "naive_wape"), strict=True):
        match = re.search(contract.metric_regex(name), trained.stdout)
        assert match and float(match.group(1)) == pytest.approx(trained.evaluation[key], abs=1e-6)


@pytest.mark.parametrize(
    ("days", "validation_days", "reason"),
    [
        (10, 14, "10 sale days, need 22"),
        # ten days with four held out leave six to train on: none of them has a 7-day lag
        (10, 4, "10 sale days, need 12: no day before the 4 held-out ones has revenue_lag_7d"),
    ],
)
def test_too_little_history_trains_nothing_says_why_and_succeeds(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    days: int,
    validation_days: int,
    reason: str,
) -> None:
    """A young lake is not an error: the job completes without a model and its history metrics
    tell the training state machine to end in NotEnoughHistory."""
    features = write_features(store_daily_features(days=days), tmp_path / "features")
    code, model_dir, output_dir = run_training(
        monkeypatch, tmp_path, features, "--validation_days", str(validation_days)
    )
    captured = capsys.readouterr()
    assert code == 0 and not (model_dir / contract.MODEL_FILE).exists()
    assert captured.err == f"train: skipped, not enough history ({reason})\n"
    metrics = {
        name: float(match.group(1))
        for name in (contract.METRIC, *contract.HISTORY_METRICS)
        if (match := re.search(contract.metric_regex(name), captured.out))
    }
    assert metrics == {
        "history:enough": 0,
        "history:sale_days": days,
        "history:days_needed": contract.days_needed(validation_days),
    }
    evaluation = json.loads((output_dir / train.EVALUATION_FILE).read_text())
    assert evaluation == {"trained": False, "reason": f"not enough history ({reason})"}


def test_the_history_rule_needs_the_longest_lag_before_the_held_out_days() -> None:
    """days_needed is the rule's minimum on a lake that starts with the features: one day fewer fails."""
    for validation_days in (7, 14, 28):
        needed = contract.days_needed(validation_days)
        assert train.history_shortfall(store_daily_features(days=needed), validation_days) is None
        assert train.history_shortfall(store_daily_features(days=needed - 1), validation_days) is not None


def test_enough_history_is_reported_before_the_metric(trained: Trained) -> None:
    assert "history:enough=1;" in trained.stdout and "history:days_needed=22;" in trained.stdout


def test_missing_feature_column_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = store_daily_features(days=30)
    features = tmp_path / "features"
    frame.drop(columns=["revenue_lag_7d"]).to_parquet(features, partition_cols=["sale_date"])
    code, _, _ = run_training(monkeypatch, tmp_path, features)
    assert code == 2 and "lack columns revenue_lag_7d" in capsys.readouterr().err


def test_too_few_held_out_rows_with_a_week_before_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gate compares model and seasonal naive on the rows with a week before; when most held-out
    rows lack one, a handful of rows would decide, so the job fails instead of registering."""
    frame = store_daily_features(days=40)
    held_out = frame["sale_date"] >= sorted(frame["sale_date"].unique())[-14]
    lacking = held_out & (frame["store_id"] != frame["store_id"].iloc[0])  # every store but one
    frame.loc[lacking, "revenue_lag_7d"] = None
    features = tmp_path / "features"
    frame.to_parquet(features, partition_cols=["sale_date"])
    code, _, _ = run_training(monkeypatch, tmp_path, features, "--validation_days", "14")
    assert code == 2
    assert re.search(r"only \d+ of \d+ held-out rows have revenue_lag_7d: too few", capsys.readouterr().err)


def test_missing_channel_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SM_CHANNEL_FEATURES", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(["--model_dir", "m", "--output_data_dir", "o"])
    assert exit_info.value.code == 2


def test_hyperparameters_use_the_config_keys_as_sagemaker_passes_them() -> None:
    from config.settings import ForecastHyperparameters

    arguments = [f"--{name}={value}" for name, value in {"learning_rate": 0.2, "max_iter": 50}.items()]
    args = train.parse_args([*arguments, "--features", "f", "--model_dir", "m", "--output_data_dir", "o"])
    assert (args.learning_rate, args.max_iter) == (0.2, 50)
    assert set(ForecastHyperparameters.model_fields) <= set(vars(args))


def test_validation_days_below_one_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        train.parse_args(
            ["--validation_days", "0", "--features", "f", "--model_dir", "m", "--output_data_dir", "o"]
        )


ROW = {
    "day_of_week": 6,
    "is_weekend": True,
    "is_holiday": False,
    "revenue_lag_1d": 1100.0,
    "revenue_lag_7d": 1500.5,
    "revenue_avg_7d": 1210.0,
    "revenue_avg_28d": None,
}


JSON, CSV = "application/json", "text/csv"


def serve(model: dict[str, Any], body: bytes | str, content_type: str, accept: str | None) -> Any:
    """One request through the four handlers, in the order the model server calls them."""
    return inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), model), accept)


def with_literal(name: str, literal: str) -> str:
    """A JSON request of :data:`ROW` with feature ``name`` written as ``literal``, as no encoder would."""
    return json.dumps([{**ROW, name: "@"}]).replace('"@"', literal)


def csv_with(name: str, text: str) -> str:
    """A CSV request of :data:`ROW` with feature ``name``'s field written as ``text``."""
    fields = csv_body([ROW]).removesuffix("\n").split(",")
    fields[list(train.FEATURES).index(name)] = text
    return ",".join(fields) + "\n"


def csv_body(rows: list[dict[str, Any]]) -> str:
    """``rows`` as a CSV request: the features in the model's order, booleans as ``true``/``false``,
    an unknown value as an empty field."""

    def field(value: Any) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        return "" if value is None or value != value else str(value)

    return "".join(",".join(field(row[name]) for name in train.FEATURES) + "\n" for row in rows)


def forecasts(model: dict[str, Any], rows: list[dict[str, Any]]) -> list[float]:
    """The handlers' answers to ``rows`` sent as JSON and as CSV, which must agree."""
    body, media = serve(model, json.dumps({"instances": rows}), "application/json", "application/json")
    text, csv_media = serve(model, csv_body(rows), "text/csv; charset=utf-8", "text/csv")
    predictions: list[float] = json.loads(body)["predictions"]
    assert (media, csv_media) == ("application/json", "text/csv")
    assert [float(line) for line in text.splitlines()] == predictions
    return predictions


def test_json_and_csv_requests_give_the_forecast_training_scored(
    model: dict[str, Any], trained: Trained
) -> None:
    """The held-out rows, asked for in either format, get the same answers, and those are the
    forecasts training scored (to the cent the handlers round to): close to the actual revenue."""
    rows = held_out(store_daily_features())
    instances = json.loads(rows[list(train.FEATURES)].to_json(orient="records"))
    answered = wape_of(rows["revenue"], forecasts(model, instances))
    assert answered == pytest.approx(trained.evaluation["wape"], abs=1e-5) and answered < 0.1


def test_the_committed_baseline_model_serves_through_the_handlers(tmp_path: Path) -> None:
    """The model a fresh deployment serves (``make baseline-model``) is in the current bundle format,
    refuses what is outside the schema's ranges and forecasts the sample's week: at the same lags,
    Saturday is its busiest day and beats Monday, its quietest, by a fifth at least (the sample
    generator's weekday factors are 1.45 and 0.85)."""
    shutil.copyfile(ROOT / "workloads/sagemaker/baseline/model.joblib", tmp_path / contract.MODEL_FILE)
    baseline = inference.model_fn(str(tmp_path))
    assert baseline["features"] == train.FEATURES and baseline["ranges"] == train.feature_ranges()
    lags = dict.fromkeys(("revenue_lag_1d", "revenue_lag_7d", "revenue_avg_7d", "revenue_avg_28d"), 600.0)
    week = [{"day_of_week": day, "is_weekend": day >= 6, "is_holiday": False, **lags} for day in range(1, 8)]
    predictions = forecasts(baseline, week)
    assert max(predictions) == predictions[5] and min(predictions) == predictions[0]
    assert predictions[5] > 1.2 * predictions[0]
    refused = serve(baseline, json.dumps([{**week[0], "day_of_week": 8}]), "application/json", None)
    assert isinstance(refused, inference.ErrorResponse) and refused.status == 400


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"", "application/json", 400, "empty request body"),
        (b" \n", "text/csv", 400, "empty request body"),
        (b"x" * (inference.MAX_BODY_BYTES + 1), "application/json", 413, "exceeds"),
        (json.dumps([ROW]), "application/x-npy", 415, "is not application/json"),
        ("{not json", "application/json", 400, "malformed JSON"),
        (json.dumps({"rows": [ROW]}), "application/json", 400, "list of objects"),
        (json.dumps([]), "application/json", 400, "no rows"),
        (json.dumps([ROW] * (inference.MAX_ROWS + 1)), "application/json", 413, "more than 1000 rows"),
        (json.dumps([{k: v for k, v in ROW.items() if k != "is_holiday"}]), "application/json", 400, "lacks"),
        (json.dumps([{**ROW, "store_id": "S001"}]), "application/json", 400, "unknown fields store_id"),
        (json.dumps([{**ROW, "day_of_week": "6"}]), "application/json", 400, "day_of_week must be int"),
        (json.dumps([{**ROW, "day_of_week": True}]), "application/json", 400, "day_of_week must be int"),
        (json.dumps([{**ROW, "is_weekend": 1}]), "application/json", 400, "is_weekend must be bool"),
        (json.dumps([{**ROW, "is_holiday": None}]), "application/json", 400, "is_holiday must be bool"),
        (json.dumps([{**ROW, "revenue_lag_1d": "high"}]), "application/json", 400, "must be float"),
        (json.dumps([1, 2]), "application/json", 400, "row 0 is not an object"),
        ("6,true,false,1100\n", "text/csv", 400, "CSV line 1 has 4 values, expected 7"),
        ("six,true,false,1,2,3,4\n", "text/csv", 400, "day_of_week must be int"),
        (b"\xff\xfe", "text/csv", 400, "not UTF-8"),
        ("x" * (inference.MAX_BODY_BYTES + 1), "text/csv", 413, "exceeds"),
        (",true,false,1,2,3,4\n", "text/csv", 400, "day_of_week must be int, got None"),
        (
            json.dumps([{**ROW, "revenue_lag_1d": True}]),
            "application/json",
            400,
            "revenue_lag_1d must be float",
        ),
        (
            json.dumps([{**ROW, "revenue_lag_1d": float("nan")}]),
            "application/json",
            400,
            "must be float, got nan",
        ),
        (json.dumps([{**ROW, "day_of_week": 6.0}]), "application/json", 400, "day_of_week must be int"),
        # hostile shapes: each escaped the handlers (HTTP 500) or was predicted before
        ("[" * 100_000 + "]" * 100_000, JSON, 400, "JSON nested too deeply"),
        (with_literal("revenue_avg_7d", "[" * 100_000 + "]" * 100_000), JSON, 400, "JSON nested too deeply"),
        (with_literal("revenue_lag_1d", "9" * 400), JSON, 400, "an integer of 400 digits exceeds 18 digits"),
        (with_literal("day_of_week", "7" * 5000), JSON, 400, "an integer of 5000 digits exceeds 18 digits"),
        (csv_with("revenue_lag_7d", "9" * 400), CSV, 400, "an integer of 400 digits exceeds 18 digits"),
        (
            csv_with("revenue_avg_28d", "x" * (csv.field_size_limit() + 1)),
            CSV,
            400,
            "malformed CSV at line 1: field larger than field limit",
        ),
        (csv_body([ROW]) * (inference.MAX_ROWS + 1), CSV, 413, "more than 1000 rows"),
        ("\ud800", JSON, 400, "not UTF-8"),
        (json.dumps([{**ROW, "a\nb\u2028c": 1}]), JSON, 400, "unknown fields a b c"),
        (json.dumps([{**ROW, "x" * 5000: 1}]), JSON, 400, "unknown fields xxx"),
        # values outside the schema's ranges
        (
            json.dumps([{**ROW, "day_of_week": 99}]),
            JSON,
            400,
            "row 0: day_of_week must be from 1 to 7, got 99",
        ),
        (json.dumps([{**ROW, "day_of_week": 0}]), JSON, 400, "day_of_week must be from 1 to 7, got 0"),
        (
            json.dumps([{**ROW, "revenue_lag_7d": -1500.5}]),
            JSON,
            400,
            "revenue_lag_7d must be at least 0, got -1500.5",
        ),
        (csv_with("revenue_avg_7d", "-1"), CSV, 400, "row 0: revenue_avg_7d must be at least 0, got -1"),
    ],
)
def test_malformed_requests_get_a_4xx_message(
    model: dict[str, Any], body: bytes | str, content_type: str, status: int, message: str
) -> None:
    response = serve(model, body, content_type, "application/json")
    assert isinstance(response, inference.ErrorResponse), response
    assert response.status == status and response.mimetype == "application/json"
    error = json.loads(response.response)["error"]
    assert message in error
    assert error.splitlines() == [error] and len(error) <= inference.MAX_REASON_CHARS


@pytest.mark.parametrize(
    ("accept", "media"),
    [(None, "application/json"), ("*/*", "application/json"), ("text/plain, text/csv", "text/csv")],
)
def test_accept_header_picks_a_supported_type(model: dict[str, Any], accept: str | None, media: str) -> None:
    assert serve(model, json.dumps([ROW]), "application/json", accept)[1] == media


def test_unsupported_accept_type_is_406(model: dict[str, Any]) -> None:
    response = serve(model, json.dumps([ROW]), "application/json", "application/xml")
    assert isinstance(response, inference.ErrorResponse) and response.status == 406


def test_body_at_the_limit_is_served(model: dict[str, Any]) -> None:
    row = json.dumps(ROW)
    body = "[" + row + "]"
    body += " " * (inference.MAX_BODY_BYTES - len(body))
    assert len(body.encode()) == inference.MAX_BODY_BYTES
    assert len(json.loads(serve(model, body, "application/json", None)[0])["predictions"]) == 1


def answer_is_predictions_or_4xx(
    model: dict[str, Any], body: bytes | str, content_type: str, accept: str | None, rows: int | None = None
) -> None:
    """The property every request body must have: the handlers answer, with finite forecasts or a
    4xx whose reason is one short line; nothing escapes as an exception (HTTP 500). A body of
    ``rows`` rows that are all within the schema gets exactly that many forecasts."""
    response = serve(model, body, content_type, accept)
    if isinstance(response, inference.ErrorResponse):
        error = json.loads(response.response)["error"]
        assert rows is None, f"{rows} valid rows refused: {error}"
        assert 400 <= response.status < 500 and error.splitlines() == [error]
        assert len(error) <= inference.MAX_REASON_CHARS
        return
    text, media = response
    predictions = (
        json.loads(text)["predictions"] if media == JSON else [float(line) for line in text.splitlines()]
    )
    assert predictions and all(math.isfinite(value) for value in predictions)
    assert rows is None or len(predictions) == rows


def _valid(name: str, kind: str) -> st.SearchStrategy[Any]:
    """Values of feature ``name`` within its type and the schema's range, the edges included."""
    low, high = train.feature_ranges()[name]
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        return st.integers(min_value=int(low or 0), max_value=int(high or 10**9))
    return st.none() | st.integers(min_value=0, max_value=10**9) | st.floats(min_value=low, max_value=1e9)


BYTES = st.binary(max_size=300).map(lambda body: (body, None))
ACCEPTS = st.sampled_from([None, JSON, CSV, "*/*"])
FAST = settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
"""Enough draws to reach every branch of the parser; each is a millisecond or so."""
HUGE = st.integers(min_value=1, max_value=6000).map(lambda digits: "9" * digits)
"""Integer literals from one digit to beyond Python's 4300-digit conversion limit."""
NESTED = st.integers(min_value=1, max_value=300_000).map(lambda depth: "[" * depth + "]" * depth)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10, max_value=10),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
VALID_ROWS = st.fixed_dictionaries({name: _valid(name, kind) for name, kind in train.FEATURES.items()})
SOME_ROWS = st.lists(VALID_ROWS, min_size=1, max_size=5)
BROKEN_ROWS = st.tuples(VALID_ROWS, st.sampled_from([*train.FEATURES, "extra"]), VALUES).map(
    lambda broken: {**broken[0], broken[1]: broken[2]}
)
LITERALS = st.one_of(HUGE, NESTED, st.sampled_from(["NaN", "-Infinity", "1e999", "-0", "-1", "8"]))
JSON_REQUESTS = st.one_of(
    SOME_ROWS.map(lambda rows: (json.dumps(rows), len(rows))),
    SOME_ROWS.map(lambda rows: (json.dumps({"instances": rows}), len(rows))),
    st.lists(BROKEN_ROWS | VALID_ROWS, max_size=4).map(lambda rows: (json.dumps(rows), None)),
    st.tuples(st.sampled_from(list(train.FEATURES)), LITERALS).map(
        lambda spliced: (with_literal(*spliced), None)
    ),
    VALUES.map(lambda value: (json.dumps(value), None)),
    NESTED.map(lambda body: (body, None)),
    BYTES,
)
FIELDS = st.one_of(
    st.sampled_from(["", "true", "FALSE", "0", "7", "8", "-1", "1e999", "nan", "1_000", " 3 ", '"', "a\nb"]),
    st.text(max_size=8),
    HUGE,
    SCALARS.map(str),
    st.sampled_from([csv.field_size_limit(), csv.field_size_limit() + 1]).map(lambda size: "x" * size),
)
CSV_REQUESTS = st.one_of(
    SOME_ROWS.map(lambda rows: (csv_body(rows), len(rows))),
    st.lists(st.lists(FIELDS, min_size=7, max_size=7) | st.lists(FIELDS, max_size=9), max_size=4).map(
        lambda rows: ("".join(",".join(row) + "\n" for row in rows), None)
    ),
    st.integers(min_value=inference.MAX_ROWS - 1, max_value=inference.MAX_ROWS + 1).map(
        lambda count: (csv_body([ROW]) * count, count if count <= inference.MAX_ROWS else None)
    ),
    st.text(max_size=200).map(lambda text: (text, None)),
    BYTES,
)


@FAST
@given(
    request=JSON_REQUESTS,
    content_type=st.sampled_from([JSON, "Application/JSON; charset=utf-8"]),
    accept=ACCEPTS,
)
def test_any_json_ish_body_gets_predictions_or_a_4xx(
    model: dict[str, Any], request: tuple[bytes | str, int | None], content_type: str, accept: str | None
) -> None:
    """Bytes, JSON documents, rows within and outside the schema, and literals no encoder writes."""
    answer_is_predictions_or_4xx(model, request[0], content_type, accept, request[1])


@FAST
@given(request=CSV_REQUESTS, content_type=st.sampled_from([CSV, "text/csv; charset=utf-8"]), accept=ACCEPTS)
def test_any_csv_ish_body_gets_predictions_or_a_4xx(
    model: dict[str, Any], request: tuple[bytes | str, int | None], content_type: str, accept: str | None
) -> None:
    """Bytes, text, rows within the schema and lines of hostile fields, up to the row limit and past it."""
    answer_is_predictions_or_4xx(model, request[0], content_type, accept, request[1])


# --- the Forecast step's script ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def forecast_day_features(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The features partition of a day not yet sold, as the EMR step writes its forecast row: the
    feature columns of the generator's last day, the actual columns empty."""
    frame = store_daily_features()
    last = frame[frame["sale_date"] == frame["sale_date"].max()].copy()
    actuals = ["transactions", "units_sold", "revenue", "avg_basket_value"]
    last[actuals] = None
    root = tmp_path_factory.mktemp("forecast-row")
    folder = root / f"sale_date={last['sale_date'].iloc[0]}"
    folder.mkdir()
    columns = list(STORE_DAILY_FEATURES.column_names)
    table = pa.Table.from_pandas(last[columns].astype({c: "float64" for c in actuals}), preserve_index=False)
    pq.write_table(table, folder / "part-00000-c000.snappy.parquet")
    (folder / "_WRITTEN").touch()  # the marker the lake keeps beside the data
    return folder, last


def _archive(model_dir: Path, root: Path) -> Path:
    """The model as a training job leaves it: ``model.tar.gz`` of the model folder."""
    archive = root / forecast.MODEL_ARCHIVE
    with tarfile.open(archive, "w:gz") as bundle:
        for path in sorted(model_dir.rglob("*")):
            bundle.add(path, arcname=str(path.relative_to(model_dir)))
    return archive


def _score(features: Path, model: Path, output: Path, version: int = 3) -> int:
    return forecast.main(
        [
            f"--features={features}",
            f"--model={model}",
            f"--output={output}",
            "--day=2026-05-05",
            f"--model-version={version}",
            "--run-id=dsp-2026-05-04",
        ]
    )


def test_the_forecast_step_scores_every_store_through_the_handlers(
    trained: Trained, forecast_day_features: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, rows = forecast_day_features
    archive = _archive(trained.model_dir, tmp_path)
    output = tmp_path / "store_forecasts" / "forecast_date=2026-05-05"
    assert _score(folder, archive.parent, output) == 0
    (written,) = output.iterdir()
    assert written.name == "model-3.parquet"
    table = pq.read_table(written)
    assert table.schema.names == list(STORE_FORECASTS.column_names)
    assert [str(field.type) for field in table.schema] == ["string", "double", "int32", "string"]
    frame = table.to_pandas()
    assert list(frame["store_id"]) == sorted(rows["store_id"])
    assert set(frame["model_version"]) == {3} and set(frame["run_id"]) == {"dsp-2026-05-04"}
    bundle = inference.model_fn(str(trained.model_dir))
    expected = bundle["model"].predict(train.as_model_input(rows.sort_values("store_id")))
    assert frame["forecast"].tolist() == pytest.approx(np.round(expected, 2).tolist(), abs=0.005)


def test_scoring_a_day_again_replaces_its_version_and_keeps_the_others(
    trained: Trained, forecast_day_features: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, _ = forecast_day_features
    output = tmp_path / "forecast_date=2026-05-05"
    assert _score(folder, trained.model_dir, output) == 0
    first = pq.read_table(output / "model-3.parquet").to_pandas()
    assert _score(folder, trained.model_dir, output) == 0  # a rerun of the same version
    assert _score(folder, trained.model_dir, output, version=4) == 0  # a newer model
    assert sorted(path.name for path in output.iterdir()) == ["model-3.parquet", "model-4.parquet"]
    pd.testing.assert_frame_equal(pq.read_table(output / "model-3.parquet").to_pandas(), first)


def test_a_day_without_features_fails_clearly(
    trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "sale_date=2026-05-05"
    empty.mkdir()
    (empty / "_WRITTEN").touch()  # an emptied day keeps its marker
    assert _score(empty, trained.model_dir, tmp_path / "out") == 2
    assert capsys.readouterr().err == f"forecast: 2026-05-05: no feature rows in {empty}\n"
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_missing_model_fails_clearly(
    forecast_day_features: tuple[Path, pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = forecast_day_features
    assert _score(folder, tmp_path, tmp_path / "out") == 2
    assert capsys.readouterr().err == (
        f"forecast: 2026-05-05: no {inference.MODEL_FILE} or {forecast.MODEL_ARCHIVE} at {tmp_path}\n"
    )


def test_a_model_version_below_one_is_a_usage_error(forecast_day_features: tuple[Path, pd.DataFrame]) -> None:
    folder, _ = forecast_day_features
    with pytest.raises(SystemExit) as exit_:
        _score(folder, folder, folder, version=0)
    assert exit_.value.code == 2
