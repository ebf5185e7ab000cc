"""Evaluating the ``{% ... %}`` JSONata expressions of a state machine definition, as Step Functions does."""

from __future__ import annotations

from typing import Any

import jsonata
from jsonata.utils import Utils


def evaluate(expression: str, **variables: Any) -> Any:
    """A ``{% ... %}`` JSONata expression of a definition, evaluated with ``variables`` bound; a
    variable of None is JSON null, as a state machine variable assigned ``null`` holds (bound as
    plain None, jsonata-python would see no value at all, and ``$x = null`` would be false)."""
    assert expression.startswith("{%") and expression.endswith("%}"), expression
    compiled = jsonata.Jsonata(expression[2:-2].strip())
    frame = compiled.create_frame()
    for name, value in variables.items():
        frame.bind(name, Utils.NULL_VALUE if value is None else value)
    return compiled.evaluate(None, frame)


def defined(expression: str, **variables: Any) -> bool:
    """Whether a ``{% ... %}`` expression gives a value (JSON null counts) rather than nothing: Step
    Functions fails a state whose Assign or Output expression gives nothing
    (``States.QueryEvaluationError``), and jsonata-python returns None for both."""
    return bool(evaluate(f"{{% $exists({expression[2:-2].strip()}) %}}", **variables))
