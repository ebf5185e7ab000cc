"""Generated ``store_daily_features`` for the forecast tests, written as the EMR step writes them.

Revenue per store and day = store level x weekday pattern x holiday lift x slow trend x noise, so
a model that reads the calendar and the weekly lag can beat "same as yesterday". Lags and
averages follow the EMR step's definitions (``workloads/emr/features.py``): the day before, a week
before, the mean of the 7 and 28 days before; empty when the history is too short.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workloads.schema import STORE_DAILY_FEATURES

WEEKDAY_FACTOR = (0.8, 0.85, 0.9, 1.0, 1.2, 1.6, 1.4)
HOLIDAYS_EVERY = 23
"""Every 23rd day is a holiday with 1.5x revenue: not on a weekly rhythm the lags could learn."""


def store_daily_features(
    stores: int = 6, days: int = 120, seed: int = 3, start: date = date(2026, 1, 5)
) -> pd.DataFrame:
    """One row per store and day from ``start``, in the schema module's columns, with ``sale_date``
    as a column; the lake starts on ``start`` (no lag reaches before it)."""
    rng = np.random.default_rng(seed)
    frames = []
    for store in range(stores):
        level = 800 + 400 * store
        calendar = [start + timedelta(days=offset) for offset in range(days)]
        weekday = np.array([day.isoweekday() for day in calendar])
        holiday = np.array([offset % HOLIDAYS_EVERY == 0 for offset in range(days)])
        trend = 1 + 0.002 * np.arange(days)
        factor = np.array([WEEKDAY_FACTOR[d - 1] for d in weekday]) * np.where(holiday, 1.5, 1.0)
        revenue = np.round(level * factor * trend * rng.normal(1, 0.05, days), 2)
        series = pd.Series(revenue)
        transactions = np.maximum(1, (revenue / 40).astype(int))
        frames.append(
            pd.DataFrame(
                {
                    "store_id": f"S{store:03d}",
                    "region": ("us", "uk", "eu")[store % 3],
                    "transactions": transactions,
                    "units_sold": transactions * 3,
                    "revenue": revenue,
                    "avg_basket_value": revenue / transactions,
                    "day_of_week": weekday,
                    "is_weekend": weekday >= 6,
                    "is_holiday": holiday,
                    "revenue_lag_1d": series.shift(1),
                    "revenue_lag_7d": series.shift(7),
                    "revenue_avg_7d": series.shift(1).rolling(7, min_periods=1).mean(),
                    "revenue_avg_28d": series.shift(1).rolling(28, min_periods=1).mean(),
                    "sale_date": [day.isoformat() for day in calendar],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def write_features(frame: pd.DataFrame, root: Path) -> Path:
    """Write ``frame`` as Parquet in ``sale_date=`` folders with revenue as ``decimal(14,2)``,
    plus the empty marker files EMR writes next to them."""
    columns = [*STORE_DAILY_FEATURES.column_names, "sale_date"]
    table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    revenue = pa.array([Decimal(f"{value:.2f}") for value in frame["revenue"]], pa.decimal128(14, 2))
    table = table.set_column(columns.index("revenue"), "revenue", revenue)
    pq.write_to_dataset(table, root, partition_cols=["sale_date"])
    for marker in ("_SUCCESS", f"sale_date={frame['sale_date'].iloc[0]}_$folder$"):
        (root / marker).write_text("")  # what EMR leaves beside the data
    return root


def week_before(frame: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The seasonal naive forecast of ``rows``, looked up without their lag column: the revenue of
    the same store seven days before in ``frame`` (NaN where there is none)."""
    revenue = frame.set_index(["store_id", "sale_date"])["revenue"]
    days = [(date.fromisoformat(day) - timedelta(days=7)).isoformat() for day in rows["sale_date"]]
    naive: np.ndarray = revenue.reindex(list(zip(rows["store_id"], days, strict=True))).to_numpy(dtype=float)
    return naive
