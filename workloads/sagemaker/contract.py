"""What the training script, the model it writes and the SageMaker stack agree on.

Plain Python with no third-party import, so the stack reads it at synth time; the training
source asset ships it as ``workloads/sagemaker/contract.py`` next to ``train.py`` at the top.
"""


def metric_regex(name: str) -> str:
    """The regular expression that finds metric ``name`` in the job's log (``name=value;``)."""
    return rf"{name}=([0-9.]+);"


METRIC = "validation:wape"
"""The model's held-out WAPE; ``METRIC_REGEX`` finds it in the job's log."""
METRIC_REGEX = metric_regex(METRIC)
NAIVE_METRIC = "validation:naive_wape"
"""The seasonal naive forecast's WAPE on the same held-out rows as :data:`METRIC`."""
EVALUATION_METRICS = (METRIC, NAIVE_METRIC)
"""What the training state machine gates on: the model's WAPE must be at most the configured
``max_wape`` and beat the naive forecast's by the configured ``min_improvement``."""
HISTORY_METRICS = ("history:enough", "history:sale_days", "history:days_needed")
"""What ``train.py`` reports about its input before it trains: 1 or 0 (whether the sale days train),
how many sale days the features hold and how many :func:`days_needed` asks for. With 0 it trains
nothing and the training state machine ends in ``NotEnoughHistory`` instead of failing."""
LONGEST_LAG_DAYS = 7
"""The longest revenue lag among the model inputs (``revenue_lag_7d``, from the EMR step's ``LAGS``)."""
TRAINING_DAYS = LONGEST_LAG_DAYS + 1
"""The fewest sale days before the held-out ones: on a young lake the longest lag first has a
value on the day after :data:`LONGEST_LAG_DAYS` days of history, and training needs one such day."""


def days_needed(validation_days: int) -> int:
    """The fewest consecutive sale days a training run needs with ``validation_days`` held out; the
    pipeline's Features step recomputes this many days, up to the run's date, on every run."""
    return TRAINING_DAYS + validation_days


MODEL_FILE = "model.joblib"
CODE_DIR = "code"
"""Where the model carries its serving code: it is served with network isolation, so the
container takes its handlers from ``/opt/ml/model/code``, never from S3."""
SERVING_CODE = ("inference.py",)
"""Files beside ``train.py`` copied into the model's ``code/``."""
