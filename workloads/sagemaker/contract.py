"""What the training script, the model it writes and the SageMaker stack agree on.

Plain Python with no third-party import, so the stack reads it at synth time; the training
source asset ships it as ``workloads/sagemaker/contract.py`` next to ``train.py`` at the top.
"""

METRIC = "validation:wape"
"""The metric the training state machine gates on; ``METRIC_REGEX`` finds it in the job's log."""
METRIC_REGEX = rf"{METRIC}=([0-9.]+);"
MODEL_FILE = "model.joblib"
CODE_DIR = "code"
"""Where the model carries its serving code: it is served with network isolation, so the
container takes its handlers from ``/opt/ml/model/code``, never from S3."""
SERVING_CODE = ("inference.py",)
"""Files beside ``train.py`` copied into the model's ``code/``."""
