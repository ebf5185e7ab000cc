"""Validation of the schedules of Glue triggers (cron only) and EventBridge rules (rate or cron).

Six fields, ``cron(minutes hours day-of-month month day-of-week year)``, in UTC; exactly one of
day-of-month and day-of-week is ``?``. Glue runs nothing more often than every 5 minutes and has
no ``rate()`` form, so both are rejected there with a message that says what to write instead.
EventBridge also takes ``rate(<n> minute|minutes|hour|hours|day|days)``.
"""

from __future__ import annotations

import re

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FIELDS = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)
_ITEM = re.compile(r"^(?P<start>\*|\w+)(?:-(?P<end>\w+))?(?:/(?P<step>\d+))?$")
_SPECIAL = {
    "day-of-month": re.compile(r"^(L|LW|\d{1,2}W)$"),
    "day-of-week": re.compile(r"^(\d|\w{3})(L|#[1-5])$|^L$"),
}
EXAMPLE = "cron(0 2 * * ? *)"


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int:
    number = names.index(text.upper()) + 1 if text.upper() in names else int(text) if text.isdigit() else -1
    if not low <= number <= high:
        raise ValueError(text)
    return number


def _check_field(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> None:
    if text == "?" and name in ("day-of-month", "day-of-week"):
        return
    for item in text.split(","):
        if name in _SPECIAL and _SPECIAL[name].match(item):
            continue
        match = _ITEM.match(item)
        try:
            if not match:
                raise ValueError(item)
            if match["start"] != "*":
                start = _value(match["start"], low, high, names)
                if match["end"] is not None and _value(match["end"], low, high, names) < start:
                    raise ValueError(item)
            elif match["end"] is not None:
                raise ValueError(item)
            if match["step"] is not None and not 1 <= int(match["step"]) <= high:
                raise ValueError(item)
        except ValueError:
            raise ValueError(f"{name} field {item!r} is not valid (allowed {low}-{high})") from None


_RATE = re.compile(r"rate\((?P<count>[1-9]\d*) (?P<unit>minute|minutes|hour|hours|day|days)\)")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


def rate_minutes(expression: str) -> int | None:
    """The period of a valid ``rate()`` expression in minutes; None for anything else."""
    match = _RATE.fullmatch(expression)
    return int(match["count"]) * _UNIT_MINUTES[match["unit"].removesuffix("s")] if match else None


def check_schedule(expression: str) -> str:
    """``expression`` if EventBridge takes it: ``rate(15 minutes)`` (singular unit for 1) or a
    6-field cron; otherwise ValueError saying what is wrong."""
    match = _RATE.fullmatch(expression)
    if match:
        if (match["count"] == "1") == match["unit"].endswith("s"):
            raise ValueError(
                "rate() takes a singular unit for 1 and a plural one otherwise, e.g. rate(1 hour)"
            )
        return expression
    if not expression.startswith("cron("):
        raise ValueError(
            "must be rate(<n> minute(s)|hour(s)|day(s)), e.g. rate(15 minutes), or a 6-field cron()"
        )
    _check_cron_fields(expression)
    return expression


def check_cron(expression: str) -> str:
    """``expression`` if it is a valid Glue cron schedule; otherwise ValueError saying what is wrong."""
    if expression.startswith("rate("):
        raise ValueError(f"Glue triggers take a cron expression, not rate(); e.g. {EXAMPLE}")
    fields = _check_cron_fields(expression)
    minute = fields[0]
    step = re.fullmatch(r"(\*|\d+)/(\d+)", minute)
    if minute == "*" or (step and int(step.group(2)) < 5):
        raise ValueError("runs more often than every 5 minutes, which Glue does not support")
    return expression


def _check_cron_fields(expression: str) -> list[str]:
    """The six fields of a valid cron expression; ValueError naming the first bad one."""
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    fields = match.group(1).split() if match else []
    if len(fields) != len(_FIELDS):
        raise ValueError(
            "must be cron() with 6 fields (minutes hours day-of-month month day-of-week year), "
            f"e.g. {EXAMPLE}"
        )
    for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        _check_field(text, name, low, high, names)
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    return fields
