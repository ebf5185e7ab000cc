"""Read the lake from a notebook: through Athena in AWS, from the demo's output on a laptop.

Where the readers read (:func:`mode`):

- ``local`` when ``DSP_DEMO_DATA`` names the folder of the demo's zones (relative to the repository;
  ``python -m demo --keep-data`` writes them to ``demo-output/data``). Set, it wins over a platform
  file: a notebook can then drive AWS (or moto's server, as the tests do) through :class:`Platform`
  and still read the demo's rows.
- ``aws`` when the platform file exists (``DSP_PLATFORM_FILE``, default ``~/.dsp-platform.json``, written
  by the Studio stack's lifecycle configuration): the SQL runs on the platform's Athena workgroup
  through awswrangler (AWS SDK for pandas), imported only then.
- ``local`` otherwise, from ``demo-output/data``.

Each reader holds its Athena SQL and the pandas equivalent; both return the same columns as the same
dtypes (the schema's types; decimals as floats). "The last N days" end at the table's newest day, not
today. Names of tables, columns and partitions come from the repository's ``workloads/schema.py``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # notebooks run in notebooks/; the schema module is in the repository
    sys.path.insert(0, str(ROOT))

from workloads.schema import CURATED_TRANSACTIONS, QUARANTINE, STORE_DAILY_FEATURES, Table  # noqa: E402

PLATFORM_FILE = "~/.dsp-platform.json"
DEMO_DATA = "demo-output/data"
DTYPES = {"string": "string", "int": "Int64", "bigint": "Int64", "double": "float64", "boolean": "boolean"}
"""The pandas dtype of each Glue type (decimals become floats, timestamps UTC)."""
REASON, LINES = QUARANTINE.column("reason").name, "lines"


@dataclass(frozen=True)
class Platform:
    """Where the platform's resources are: the platform file's values (all text)."""

    region: str
    workgroup: str
    curated_database: str
    analytics_database: str
    training_state_machine: str  # ARN
    package_group: str
    endpoint: str
    sandbox: str  # s3:// URI the notebook's user may write to

    @classmethod
    def load(cls, path: Path | None = None) -> Platform:
        """The platform file at ``path`` (default :func:`platform_file`); every key must be there."""
        path = path or platform_file()
        if not path.is_file():
            raise FileNotFoundError(f"no platform file {path}: run in Studio or set DSP_PLATFORM_FILE")
        values = json.loads(path.read_text(encoding="utf-8"))
        names = [field.name for field in fields(cls)]
        missing = [name for name in names if not isinstance(values.get(name), str)]
        if missing:
            raise ValueError(f"{path}: no text value for {', '.join(missing)}")
        return cls(**{name: values[name] for name in names})

    def session(self) -> Any:
        """A boto3 session in the platform's region."""
        return boto3.Session(region_name=self.region)

    def database(self, table: Table) -> str:
        """The Glue database of ``table``'s zone."""
        return str(getattr(self, f"{table.zone}_database"))


def platform_file() -> Path:
    """``DSP_PLATFORM_FILE``, or ``~/.dsp-platform.json``."""
    return Path(os.environ.get("DSP_PLATFORM_FILE") or PLATFORM_FILE).expanduser()


def demo_data() -> Path:
    """The demo's zones: ``DSP_DEMO_DATA`` or ``demo-output/data``, relative to the repository."""
    return ROOT / (os.environ.get("DSP_DEMO_DATA") or DEMO_DATA)


def mode() -> str:
    """``local`` or ``aws``: where the readers read (see the module's docstring)."""
    return "local" if os.environ.get("DSP_DEMO_DATA") or not platform_file().is_file() else "aws"


def transactions(days: int = 7) -> pd.DataFrame:
    """The curated sale lines of the lake's last ``days`` sale days, by day and key."""
    table = CURATED_TRANSACTIONS
    columns, order = [*table.column_names, _day(table)], [_day(table), *table.key]
    sql = f"SELECT {_list(columns)} FROM {table.name} WHERE {_since(table, days)} ORDER BY {_list(order)}"
    return _read(table, columns, sql, lambda rows: _last_days(rows, table, days).sort_values(order))


def daily_features() -> pd.DataFrame:
    """Every sold row of the store features (one per store and sale day), by day and store; the
    forecast row (the day after the last run's, no sales yet) is left out."""
    table = STORE_DAILY_FEATURES
    columns, order = [*table.column_names, _day(table)], [_day(table), *table.key]
    order = list(dict.fromkeys(order))  # the day, then the rest of the key
    sql = f"SELECT {_list(columns)} FROM {table.name} WHERE revenue IS NOT NULL ORDER BY {_list(order)}"
    return _read(table, columns, sql, lambda rows: rows[rows["revenue"].notna()].sort_values(order))


def quarantine_reasons(last_days: int = 7) -> pd.DataFrame:
    """Quarantined lines (``lines``) per ingest day and reason over the last ``last_days`` ingest days."""
    table = QUARANTINE
    keys = [_day(table), REASON]
    sql = (
        f"SELECT {_list(keys)}, count(*) AS {LINES} FROM {table.name} WHERE {_since(table, last_days)} "
        f"GROUP BY {_list(keys)} ORDER BY {_list(keys)}"
    )

    def count(rows: pd.DataFrame) -> pd.DataFrame:
        return _last_days(rows, table, last_days).groupby(keys).size().reset_index(name=LINES)

    return _read(table, [*keys, LINES], sql, count)


def _day(table: Table) -> str:
    return table.partition_keys[0].name


def _list(columns: list[str]) -> str:
    return ", ".join(columns)


def _since(table: Table, days: int) -> str:
    """Athena: the row's day is one of the table's newest ``days`` calendar days."""
    if not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number of at least 1, got {days!r}")
    newest = f"CAST(date_add('day', {1 - days}, CAST(max({_day(table)}) AS date)) AS varchar)"
    return f"{_day(table)} >= (SELECT {newest} FROM {table.name})"


def _last_days(rows: pd.DataFrame, table: Table, days: int) -> pd.DataFrame:
    """pandas: the rows of the newest ``days`` calendar days of ``rows``, as :func:`_since`."""
    day = _day(table)
    first = date.fromisoformat(rows[day].max()) - timedelta(days=days - 1) if len(rows) else date.min
    return rows[rows[day] >= first.isoformat()]


def _read(
    table: Table, columns: list[str], sql: str, local: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """``sql`` on Athena, or ``local`` on the demo's ``table``; ``columns`` as their schema's dtypes."""
    frame = _athena(sql, table) if mode() == "aws" else local(_local(table))
    typed = frame[columns].reset_index(drop=True)
    for name in columns:
        kind = "bigint" if name == LINES else table.column(name).type
        if kind == "timestamp":
            typed[name] = pd.to_datetime(typed[name], utc=True).dt.as_unit("ns")
        else:
            typed[name] = typed[name].astype("float64" if kind.startswith("decimal") else DTYPES[kind])
    return typed


def _athena(sql: str, table: Table) -> pd.DataFrame:
    try:
        import awswrangler as wr
    except ImportError as error:
        raise ImportError(
            "the lake in AWS is read with awswrangler: pip install awswrangler==3.17.1"
        ) from error
    platform = Platform.load()
    frame: pd.DataFrame = wr.athena.read_sql_query(
        sql,
        database=platform.database(table),
        workgroup=platform.workgroup,
        ctas_approach=False,
        boto3_session=platform.session(),
    )
    return frame


def _local(table: Table) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.dataset as ds

    path = demo_data() / table.zone / table.prefix
    if not path.is_dir():
        raise FileNotFoundError(f"no {table.name} in {path}: `python -m demo --keep-data` writes it")
    keys = pa.schema([(key.name, pa.string()) for key in table.partition_keys])
    files = ds.dataset(path, format="parquet", partitioning=ds.partitioning(keys, flavor="hive"))
    frame: pd.DataFrame = files.to_table().to_pandas()
    return frame
