"""How the state machines name and tag what each run creates."""

from collections.abc import Mapping

RUN_ID = (
    "$replace($states.context.Execution.StartTime, /[^0-9]/, '') & "
    "'-' & $string($states.context.Execution.RedriveCount)"
)
"""JSONata: the execution's start time as its 17 digits (to the millisecond) and how often it was
redriven, so a redriven run names new jobs; valid in any SageMaker name."""


def run_name(prefix: str) -> str:
    """JSONata for ``<prefix>-<RUN_ID>``: a job, model or endpoint config of this run (at most 63
    characters while ``prefix`` has at most 40, which the settings check)."""
    return f"{{% '{prefix}-' & {RUN_ID} %}}"


def api_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """``tags`` as the SageMaker API takes them, so what a run creates carries the platform's tags."""
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
