"""How the state machines name what each run creates: after the execution's start time."""

RUN_ID = "$replace($states.context.Execution.StartTime, /[^0-9]/, '')"
"""JSONata: the execution's start time as its 17 digits (to the millisecond), valid in any SageMaker name."""


def run_name(prefix: str) -> str:
    """JSONata for ``<prefix>-<RUN_ID>``: a job, model or endpoint config of this run (at most 63
    characters, so ``prefix`` at most 45)."""
    return f"{{% '{prefix}-' & {RUN_ID} %}}"
