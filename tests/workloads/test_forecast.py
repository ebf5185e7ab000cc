"""The forecast workload: script-mode training on generated features, then serving through the handlers."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn

from tests.conftest import ROOT
from tests.workloads.forecast_features import store_daily_features, write_features
from workloads.sagemaker import contract, inference, train

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


def week_before(frame: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The seasonal naive forecast of ``rows``, looked up without their lag column: the revenue of
    the same store seven days before in ``frame`` (NaN where there is none)."""
    revenue = frame.set_index(["store_id", "sale_date"])["revenue"]
    days = [(date.fromisoformat(day) - timedelta(days=7)).isoformat() for day in rows["sale_date"]]
    naive: np.ndarray = revenue.reindex(list(zip(rows["store_id"], days, strict=True))).to_numpy(dtype=float)
    return naive


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


def serve(model: dict[str, Any], body: bytes | str, content_type: str, accept: str | None) -> Any:
    """One request through the four handlers, in the order the model server calls them."""
    return inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), model), accept)


def test_json_and_csv_requests_give_the_same_forecast(model: dict[str, Any]) -> None:
    rows = [ROW, {**ROW, "day_of_week": 2, "is_weekend": False}]
    body, media = serve(model, json.dumps({"instances": rows}), "application/json", "application/json")
    predictions = json.loads(body)["predictions"]
    csv_body = "6,true,false,1100,1500.5,1210,\n2,false,false,1100,1500.5,1210,\n"
    csv_out, csv_media = serve(model, csv_body, "text/csv; charset=utf-8", "text/csv")
    assert media == "application/json" and csv_media == "text/csv"
    assert [float(line) for line in csv_out.splitlines()] == predictions
    assert predictions[0] > predictions[1] > 0, "a Saturday outsells a Tuesday at the same lags"


def test_the_committed_baseline_model_serves_through_the_handlers(tmp_path: Path) -> None:
    """The model a fresh deployment serves (``make baseline-model``) loads and answers as a trained one."""
    shutil.copyfile(ROOT / "workloads/sagemaker/baseline/model.joblib", tmp_path / contract.MODEL_FILE)
    baseline = inference.model_fn(str(tmp_path))
    assert baseline["features"] == train.FEATURES
    body, media = serve(baseline, json.dumps({"instances": [ROW]}), "application/json", "application/json")
    (prediction,) = json.loads(body)["predictions"]
    assert media == "application/json" and prediction > 0


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
        (json.dumps([ROW] * (inference.MAX_ROWS + 1)), "application/json", 413, "exceed the limit"),
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
    ],
)
def test_malformed_requests_get_a_4xx_message(
    model: dict[str, Any], body: bytes | str, content_type: str, status: int, message: str
) -> None:
    response = serve(model, body, content_type, "application/json")
    assert isinstance(response, inference.ErrorResponse), response
    assert response.status == status and response.mimetype == "application/json"
    error = json.loads(response.response)["error"]
    assert message in error and "\n" not in error


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
