"""SageMaker script-mode workloads: the demand-forecast training script and its inference handlers."""
