"""Train the per-store daily revenue forecast: SageMaker script mode, scikit-learn framework image.

Reads the EMR step's ``store_daily_features`` Parquet (Hive ``sale_date=`` folders) from the
``features`` channel, holds out the last ``--validation-days`` sale days (a time-based split, never
a random one), fits a gradient-boosted regressor on the days before them and scores it on the
held-out days with WAPE (sum of absolute errors / sum of actual revenue, lower is better) next to
the seasonal naive forecast "same as a week before" (``revenue_lag_7d``), both on
the same rows: the held-out store-days that have that value.

Writes ``model.joblib`` (the fitted pipeline plus the feature names, types and allowed ranges the
inference handlers check requests against) and ``code/inference.py`` to ``SM_MODEL_DIR`` and
``evaluation.json`` to ``SM_OUTPUT_DATA_DIR``, and prints ``validation:wape=...;`` and
``validation:naive_wape=...;`` for the training job's metric definitions, which the training state
machine reads and gates on (:data:`EVALUATION_METRICS`). Bad input exits 2 with one line.

Before training it reports its history (``history:*`` metrics, :data:`HISTORY_METRICS`). Too little
of it (a young lake: fewer sale days than :func:`days_needed`, or no day before the held-out ones
with every lag) is not an error: it trains nothing, writes ``evaluation.json`` with ``trained: false``
and the reason, says so in one line on stderr and exits 0, and the training state machine ends in
``NotEnoughHistory``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
from sklearn.ensemble import HistGradientBoostingRegressor

from workloads.sagemaker.contract import (
    CODE_DIR,
    EVALUATION_METRICS,
    HISTORY_METRICS,
    METRIC,
    MODEL_FILE,
    SERVING_CODE,
    days_needed,
)
from workloads.schema import STORE_DAILY_FEATURES

IMAGE_VERSION = "1.9-0"
"""The SageMaker scikit-learn image this script runs in; the local scikit-learn pin is its version."""
IMAGE_PYTHON = (3, 12)
"""The image's Python (its Dockerfile builds it on Amazon Linux 2023 with Python 3.12; the SDK's
image table says only ``py3``): every file shipped to the image must parse with this grammar."""
TARGET = "revenue"
DAY = "sale_date"
FEATURES = {
    "day_of_week": "int",
    "is_weekend": "bool",
    "is_holiday": "bool",
    "revenue_lag_1d": "float",
    "revenue_lag_7d": "float",
    "revenue_avg_7d": "float",
    "revenue_avg_28d": "float",
}
"""Model inputs and their request types; lag and average features may be empty (null)."""
NAIVE_FEATURE = "revenue_lag_7d"
"""The seasonal naive forecast, retail's baseline: the revenue of the same weekday a week before."""
EVALUATION_FILE = "evaluation.json"


MIN_SCORED_SHARE = 0.5
"""The share of held-out rows that must have :data:`NAIVE_FEATURE` for the comparison the gate reads
to count: fewer (stores that did not sell a week before) would let a handful of rows decide."""


class TrainingInputError(ValueError):
    """The features cannot train a model (missing columns, unreadable files); the job fails with it."""


class NotEnoughHistory(TrainingInputError):
    """The features hold too little history to train (see :func:`history_shortfall`)."""


@dataclass(frozen=True)
class Evaluation:
    """Held-out scores: the model's WAPE and the seasonal naive forecast's, both on the
    ``scored_rows`` held-out rows that have a :data:`NAIVE_FEATURE`, and what was held out."""

    wape: float
    naive_wape: float
    validation_days: int
    validation_rows: int
    scored_rows: int
    training_rows: int
    first_validation_day: str

    @property
    def improvement(self) -> float | None:
        """Share of the naive forecast's error the model removes (0.2 = 20 % less error); None when
        the naive forecast makes no error to remove."""
        return 1 - self.wape / self.naive_wape if self.naive_wape else None


def feature_ranges() -> dict[str, list[float | None]]:
    """Each model input's allowed ``[minimum, maximum]`` (None: unbounded) from the schema module's
    :data:`STORE_DAILY_FEATURES`, as plain floats: the bundle carries them to the inference
    handlers, which import nothing from here."""
    columns = [STORE_DAILY_FEATURES.column(name) for name in FEATURES]
    return {
        column.name: [None if bound is None else float(bound) for bound in (column.minimum, column.maximum)]
        for column in columns
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Hyperparameters arrive as ``--name value`` with the names as configured (SageMaker passes
    each key unchanged, so the names use underscores); paths come from SageMaker's variables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--max_iter", type=int, default=200)
    parser.add_argument("--max_leaf_nodes", type=int, default=15)
    parser.add_argument("--min_samples_leaf", type=int, default=10)
    parser.add_argument("--validation_days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--features", default=os.environ.get("SM_CHANNEL_FEATURES"))
    parser.add_argument("--model_dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--output_data_dir", default=os.environ.get("SM_OUTPUT_DATA_DIR"))
    args = parser.parse_args(argv)
    for name in ("features", "model_dir", "output_data_dir"):
        if not getattr(args, name):
            parser.error(f"--{name} is not set and neither is its SM_* variable")
    if args.validation_days < 1:
        parser.error(f"--validation_days must be at least 1, got {args.validation_days}")
    return args


def load_features(path: str) -> pd.DataFrame:
    """Every feature row under ``path`` that has its target (the forecast row, a day not yet sold, is
    skipped), the target as float and ``sale_date`` as a string.

    Only ``*.parquet`` files are read: EMR's ``_$folder$`` and ``_SUCCESS`` markers, which File
    mode downloads with the data, are not features."""
    files = sorted(str(file) for file in Path(path).rglob("*.parquet"))
    if not files:
        raise TrainingInputError(f"no Parquet files under {path}")
    try:
        table = ds.dataset(files, format="parquet", partitioning="hive", partition_base_dir=path).to_table()
    except (OSError, ValueError) as error:
        raise TrainingInputError(f"cannot read features under {path}: {error}") from error
    frame = table.to_pandas()
    missing = sorted({TARGET, DAY, *FEATURES} - set(frame.columns))
    if missing:
        raise TrainingInputError(f"features under {path} lack columns {', '.join(missing)}")
    frame = frame[frame[TARGET].notna()].reset_index(drop=True)
    frame[DAY] = frame[DAY].astype(str)
    frame[TARGET] = frame[TARGET].astype(float)
    return frame


def as_model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns as the regressor takes them: numbers, nulls as NaN."""
    return frame[list(FEATURES)].astype(float)


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error: sum |actual - predicted| / sum |actual|."""
    return float(np.abs(actual - predicted).sum() / np.abs(actual).sum())


def history_shortfall(frame: pd.DataFrame, validation_days: int) -> str | None:
    """The history rule: None when the sale days of ``frame`` train with the last
    ``validation_days`` held out, else what is missing ("9 sale days, need 15"). Training needs more
    sale days than it holds out, and a day before the held-out ones with every feature (on a young
    lake the 7-day lag first has a value on the 8th day: :func:`days_needed` in all)."""
    days = sorted(frame[DAY].unique())
    have = f"{len(days)} sale days, need {days_needed(validation_days)}"
    if len(days) <= validation_days:
        return have
    training = frame[frame[DAY] < days[-validation_days]]
    empty = [name for name in FEATURES if training[name].isna().all()]
    if empty:
        return f"{have}: no day before the {validation_days} held-out ones has {', '.join(empty)}"
    return None


def train(frame: pd.DataFrame, args: argparse.Namespace) -> tuple[HistGradientBoostingRegressor, Evaluation]:
    """Fit on every day before the last ``validation_days`` and score on those days;
    :class:`NotEnoughHistory` when :func:`history_shortfall` finds too little history."""
    shortfall = history_shortfall(frame, args.validation_days)
    if shortfall is not None:
        raise NotEnoughHistory(shortfall)
    days = sorted(frame[DAY].unique())
    first_held_out = days[-args.validation_days]
    held_out = frame[DAY] >= first_held_out
    training, validation = frame[~held_out], frame[held_out]
    model = HistGradientBoostingRegressor(
        learning_rate=args.learning_rate,
        max_iter=args.max_iter,
        max_leaf_nodes=args.max_leaf_nodes,
        min_samples_leaf=args.min_samples_leaf,
        random_state=args.seed,
    ).fit(as_model_input(training), training[TARGET])
    scored = validation[validation[NAIVE_FEATURE].notna()]
    actual = scored[TARGET].to_numpy()
    if not actual.any():
        raise TrainingInputError("the held-out days have no revenue with a week before to compare against")
    if len(scored) < MIN_SCORED_SHARE * len(validation):
        raise TrainingInputError(
            f"only {len(scored)} of {len(validation)} held-out rows have {NAIVE_FEATURE}: too few to "
            f"compare the model with the seasonal naive (at least {MIN_SCORED_SHARE:.0%} must)"
        )
    evaluation = Evaluation(
        wape=wape(actual, model.predict(as_model_input(scored))),
        naive_wape=wape(actual, scored[NAIVE_FEATURE].to_numpy(dtype=float)),
        validation_days=args.validation_days,
        validation_rows=len(validation),
        scored_rows=len(scored),
        training_rows=len(training),
        first_validation_day=first_held_out,
    )
    return model, evaluation


def save(model: HistGradientBoostingRegressor, evaluation: Evaluation, args: argparse.Namespace) -> None:
    """The model bundle the inference handlers load, and the evaluation next to it."""
    Path(args.model_dir).mkdir(parents=True, exist_ok=True)
    Path(args.output_data_dir).mkdir(parents=True, exist_ok=True)
    bundle: dict[str, Any] = {
        "model": model,
        "features": FEATURES,
        "ranges": feature_ranges(),
        "target": TARGET,
    }
    joblib.dump(bundle, Path(args.model_dir) / MODEL_FILE)
    code = Path(args.model_dir) / CODE_DIR
    code.mkdir(exist_ok=True)
    for name in SERVING_CODE:
        shutil.copyfile(Path(__file__).with_name(name), code / name)
    report = {**asdict(evaluation), "improvement": evaluation.improvement, "metric": METRIC}
    (Path(args.output_data_dir) / EVALUATION_FILE).write_text(json.dumps(report, indent=2) + "\n")


def skip(reason: str, args: argparse.Namespace) -> None:
    """Record a run that trained nothing: ``evaluation.json`` with ``trained: false`` and ``reason``."""
    Path(args.output_data_dir).mkdir(parents=True, exist_ok=True)
    report = {"trained": False, "reason": f"not enough history ({reason})"}
    (Path(args.output_data_dir) / EVALUATION_FILE).write_text(json.dumps(report, indent=2) + "\n")
    print(f"train: skipped, {report['reason']}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Report the history, then train, save and print the metrics; 0 without a model when the
    history is too short (:func:`skip`); 2 with one line on stderr when the input cannot train."""
    args = parse_args(argv)
    try:
        frame = load_features(args.features)
        shortfall = history_shortfall(frame, args.validation_days)
        sale_days = frame[DAY].nunique()
        values = (int(shortfall is None), sale_days, days_needed(args.validation_days))
        for name, value in zip(HISTORY_METRICS, values, strict=True):
            print(f"{name}={value};")
        if shortfall is not None:
            skip(shortfall, args)
            return 0
        model, evaluation = train(frame, args)
    except TrainingInputError as error:
        print(f"train: {error}", file=sys.stderr)
        return 2
    save(model, evaluation, args)
    for name, value in zip(EVALUATION_METRICS, (evaluation.wape, evaluation.naive_wape), strict=True):
        print(f"{name}={value:.6f};")
    return 0


if __name__ == "__main__":
    sys.exit(main())
