"""Data-quality rules of the curated transactions table, read off the schema module.

Each rule renders itself as DQDL, the text AWS Glue Data Quality evaluates, both in the ETL job and in
the ruleset attached to the catalog table; :mod:`.quality_check` evaluates the same rules on a local
Spark DataFrame for the tests and the demo. Rules: every required column complete, the transaction
key a primary key, numeric ranges and allowed values as the schema states them, at least one row,
and (when configured) the newest sale no older than a number of hours. Plain Python: the stacks
import it at synth time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from workloads.schema import CURATED_TRANSACTIONS, Table

EVALUATION_CONTEXT = "curated_transactions"
"""How the ETL job names its evaluation in Glue Data Quality results, metrics and events."""


@dataclass(frozen=True)
class IsComplete:
    """No value of ``column`` is null."""

    column: str

    @property
    def dqdl(self) -> str:
        """The rule in DQDL."""
        return f'IsComplete "{self.column}"'


@dataclass(frozen=True)
class IsPrimaryKey:
    """``columns`` together are complete and unique."""

    columns: tuple[str, ...]

    @property
    def dqdl(self) -> str:
        """The rule in DQDL."""
        return "IsPrimaryKey " + " ".join(f'"{column}"' for column in self.columns)


@dataclass(frozen=True)
class InRange:
    """Every value of ``column`` lies within [``minimum``, ``maximum``]; a missing bound is open."""

    column: str
    minimum: Decimal | None
    maximum: Decimal | None

    @property
    def bounds(self) -> list[tuple[str, Decimal]]:
        """(operator, bound) of each bound that is set; DQDL's ``between`` excludes its ends."""
        return [(op, b) for op, b in ((">=", self.minimum), ("<=", self.maximum)) if b is not None]

    @property
    def dqdl(self) -> str:
        """The rule in DQDL."""
        parts = [f'ColumnValues "{self.column}" {op} {bound}' for op, bound in self.bounds]
        return " and ".join(f"({part})" for part in parts) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class IsIn:
    """Every value of ``column`` is one of ``values``, or null when ``nullable``."""

    column: str
    values: tuple[str, ...]
    nullable: bool

    @property
    def dqdl(self) -> str:
        """The rule in DQDL."""
        listed = [f'"{value}"' for value in self.values] + (["NULL"] if self.nullable else [])
        return f'ColumnValues "{self.column}" in [{", ".join(listed)}]'


@dataclass(frozen=True)
class HasRows:
    """The data set is not empty."""

    @property
    def dqdl(self) -> str:
        """The rule in DQDL."""
        return "RowCount > 0"


@dataclass(frozen=True)
class IsFresh:
    """The newest value of ``column`` is at most ``hours`` old."""

    column: str
    hours: int

    @property
    def dqdl(self) -> str:
        """The rule in DQDL."""
        return f'DataFreshness "{self.column}" <= {self.hours} hours'


Rule = IsComplete | IsPrimaryKey | InRange | IsIn | HasRows | IsFresh


def table_rules(
    table: Table = CURATED_TRANSACTIONS, *, freshness_hours: int | None = None
) -> tuple[Rule, ...]:
    """The rules of ``table``, read off its columns; freshness of ``sold_at`` when hours are given."""
    rules: list[Rule] = [IsComplete(column.name) for column in table.columns if column.required]
    rules.append(IsPrimaryKey(table.key))
    for column in table.columns:
        if column.minimum is not None or column.maximum is not None:
            rules.append(InRange(column.name, column.minimum, column.maximum))
        if column.allowed:
            rules.append(IsIn(column.name, column.allowed, nullable=not column.required))
    rules.append(HasRows())
    if freshness_hours is not None:
        rules.append(IsFresh("sold_at", freshness_hours))
    return tuple(rules)


def dqdl(rules: Sequence[Rule]) -> str:
    """The DQDL ruleset document for ``rules``."""
    return "Rules = [\n" + ",\n".join(f"    {rule.dqdl}" for rule in rules) + "\n]"
