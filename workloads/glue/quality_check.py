"""Evaluate the data-quality rules of :mod:`.quality` on a Spark DataFrame, as Glue Data Quality would.

The ETL job leaves this to Glue (``EvaluateDataQuality``); the tests and the local demo use it to run
the same gate without AWS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from workloads.glue.quality import HasRows, InRange, IsComplete, IsFresh, IsIn, IsPrimaryKey, Rule


@dataclass(frozen=True)
class Outcome:
    """The result of one rule: its DQDL text, whether it passed, and why not."""

    rule: str
    passed: bool
    reason: str = ""


def _failure(rule: Rule, frame: DataFrame, now: datetime) -> str:
    """Why ``frame`` breaks ``rule`` at time ``now``; empty when it holds."""
    match rule:
        case IsComplete(column):
            nulls = frame.where(F.col(column).isNull()).count()
            return f"{nulls} null values" if nulls else ""
        case IsPrimaryKey(columns):
            keys = frame.select(*columns)
            incomplete = keys.dropna().count() != keys.count()
            repeated = keys.count() - keys.distinct().count()
            return f"incomplete: {incomplete}, repeated keys: {repeated}" if incomplete or repeated else ""
        case InRange(column):
            value, outside = F.col(column), F.lit(False)
            for op, bound in rule.bounds:
                outside = outside | (value < F.lit(bound) if op == ">=" else value > F.lit(bound))
            count = frame.where(outside).count()
            return f"{count} values outside {rule.minimum}..{rule.maximum}" if count else ""
        case IsIn(column, values, nullable):
            allowed = F.col(column).isin(*values) | (F.col(column).isNull() & F.lit(nullable))
            count = frame.where(~F.coalesce(allowed, F.lit(False))).count()
            return f"{count} values not in {list(values)}" if count else ""
        case HasRows():
            return "" if frame.limit(1).count() else "no rows"
        case IsFresh(column, hours):
            newest = frame.agg(F.max(column)).first()
            if newest is None or newest[0] is None:
                return "no values"
            return "" if newest[0] >= now - timedelta(hours=hours) else f"newest value {newest[0]}"
    raise TypeError(f"unknown rule {rule!r}")


def evaluate(rules: Sequence[Rule], frame: DataFrame, now: datetime) -> list[Outcome]:
    """Evaluate ``rules`` on ``frame`` at time ``now`` (naive UTC, as Spark returns timestamps)."""
    outcomes = []
    for rule in rules:
        reason = _failure(rule, frame, now)
        outcomes.append(Outcome(rule.dqdl, passed=not reason, reason=reason))
    return outcomes
