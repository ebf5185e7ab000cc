"""Evaluate the data-quality rules of :mod:`.quality` on a Spark DataFrame, as Glue Data Quality would.

The ETL job leaves this to Glue (``EvaluateDataQuality``); the tests and the local demo use it to run
the same gate without AWS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from workloads.glue.quality import HasRows, InRange, IsComplete, IsFresh, IsIn, IsPrimaryKey, Rule


@dataclass(frozen=True)
class Outcome:
    """The result of one rule: its DQDL text, whether it passed, and why not."""

    rule: str
    passed: bool
    reason: str = ""


def _measures(rule: Rule) -> list[Column]:
    """The aggregates ``rule`` is judged on; :func:`evaluate` computes every rule's in one pass."""
    match rule:
        case IsComplete(column):
            return [F.count_if(F.col(column).isNull())]
        case IsPrimaryKey(columns):
            incomplete = F.lit(False)
            for column in columns:
                incomplete = incomplete | F.col(column).isNull()
            return [F.count_if(incomplete), F.count(F.lit(1)) - F.count_distinct(F.struct(*columns))]
        case InRange(column):
            value, outside = F.col(column), F.lit(False)
            for op, bound in rule.bounds:
                outside = outside | (value < F.lit(bound) if op == ">=" else value > F.lit(bound))
            return [F.count_if(outside)]
        case IsIn(column, values, nullable):
            allowed = F.col(column).isin(*values) | (F.col(column).isNull() & F.lit(nullable))
            return [F.count_if(~F.coalesce(allowed, F.lit(False)))]
        case HasRows():
            return [F.count(F.lit(1))]
        case IsFresh(column, _):
            return [F.max(column)]
    raise TypeError(f"unknown rule {rule!r}")


def _failure(rule: Rule, measured: list[Any], now: datetime) -> str:
    """Why a frame with the aggregates ``measured`` (of :func:`_measures`) breaks ``rule`` at ``now``;
    empty when it holds."""
    match rule:
        case IsComplete():
            return f"{measured[0]} null values" if measured[0] else ""
        case IsPrimaryKey():
            incomplete, repeated = measured[0] > 0, measured[1]
            return f"incomplete: {incomplete}, repeated keys: {repeated}" if incomplete or repeated else ""
        case InRange():
            return f"{measured[0]} values outside {rule.minimum}..{rule.maximum}" if measured[0] else ""
        case IsIn(_, values):
            return f"{measured[0]} values not in {list(values)}" if measured[0] else ""
        case HasRows():
            return "" if measured[0] else "no rows"
        case IsFresh(_, hours):
            newest = measured[0]
            if newest is None:
                return "no values"
            return "" if newest >= now - timedelta(hours=hours) else f"newest value {newest}"
    raise TypeError(f"unknown rule {rule!r}")


def evaluate(rules: Sequence[Rule], frame: DataFrame, now: datetime) -> list[Outcome]:
    """Evaluate ``rules`` on ``frame`` at time ``now`` (naive UTC, as Spark returns timestamps), with
    one aggregation over the frame for all of them."""
    measures = [_measures(rule) for rule in rules]
    row = frame.agg(*(column for columns in measures for column in columns)).first()
    values = list(row) if row is not None else []
    outcomes = []
    for rule, columns in zip(rules, measures, strict=True):
        measured, values = values[: len(columns)], values[len(columns) :]
        reason = _failure(rule, measured, now)
        outcomes.append(Outcome(rule.dqdl, passed=not reason, reason=reason))
    return outcomes
