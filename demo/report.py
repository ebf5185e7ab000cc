"""The demo's report: one self-contained HTML page, with its charts also written as PNG files.

It shows rows kept and quarantined per ingest day and by reason, every data-quality rule with its
outcome, a summary of the features, the forecast against the actual revenue per store next to the
seasonal naive forecast (the revenue a week before) as the lake's ``forecasts_vs_actuals`` view reads
``store_forecasts``, the WAPE per day (``forecast_accuracy``), the forecast of the day after the last,
and the seconds each stage took.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from demo.pipeline import STAGES, Result

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

REPORT = "report.html"
CHARTS = ("rows", "features", "forecast", "timings")
"""The PNG files written beside the page, ``<name>.png``, in the page's order."""
MAX_STORES = 12
"""Stores drawn in the forecast chart (the table lists all of them)."""
FEATURE_COLUMNS = (
    "transactions",
    "units_sold",
    "revenue",
    "avg_basket_value",
    "revenue_lag_1d",
    "revenue_lag_7d",
    "revenue_avg_7d",
    "revenue_avg_28d",
)
KEPT, QUARANTINED = "#2a7f62", "#d9822b"
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1d2733; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d5dbe1; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 1.2rem 0; }
.card { border: 1px solid #d5dbe1; border-radius: 6px; padding: 0.6rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.5rem; }
table { border-collapse: collapse; margin: 0.6rem 0; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #e4e8ec; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.pass { color: #2a7f62; } .fail { color: #b3261e; font-weight: 600; }
img { max-width: 100%; }
"""


def wape(actual: pd.Series, predicted: pd.Series) -> float:
    """Sum of absolute errors over the sum of actual revenue (what ``train.py`` scores)."""
    return float((actual - predicted).abs().sum() / actual.abs().sum())


def per_store(forecast: pd.DataFrame) -> list[tuple[str, int, float, float | None, float | None]]:
    """Per store: held-out days, actual revenue, and the model's WAPE and the seasonal naive
    forecast's on the same days, those with a week before to copy (both None when none has)."""
    rows = []
    for store, days in forecast.groupby("store_id", sort=True):
        scored = days[days["naive"].notna()]
        scores = (
            (wape(scored["actual"], scored["forecast"]), wape(scored["actual"], scored["naive"]))
            if len(scored)
            else (None, None)
        )
        rows.append((str(store), len(days), float(days["actual"].sum()), *scores))
    return rows


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def charts(result: Result) -> dict[str, bytes]:
    """Each chart of :data:`CHARTS` as PNG bytes."""
    from matplotlib import pyplot as plt

    pngs = {name: _png(figure) for name, figure in figures(result).items()}
    plt.close("all")
    return pngs


def figures(result: Result) -> dict[str, Figure]:
    """Each chart of :data:`CHARTS`, drawn with constrained layout: every axes keeps room for its own
    titles and tick labels, so no label lies over a neighbour's bars or lines."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    drawn = {}
    reasons = quarantined_by_reason(result.counts.values())
    # constrained: each axes leaves room for its own tick labels (the reasons are long)
    figure, (by_day, by_reason) = plt.subplots(
        1, 2, figsize=(11, 3.6), width_ratios=(2, 1), layout="constrained"
    )
    days = [day.isoformat()[5:] for day in result.counts]
    kept = [counts["kept"] for counts in result.counts.values()]
    dropped = [sum(counts.values()) - counts["kept"] for counts in result.counts.values()]
    by_day.bar(days, kept, color=KEPT, label="kept")
    by_day.bar(days, dropped, bottom=kept, color=QUARANTINED, label="quarantined")
    by_day.set(title="Lines per ingest day", ylabel="lines")
    by_day.tick_params(axis="x", labelrotation=90, labelsize=7)
    by_day.legend()
    bars = by_reason.barh(list(reasons), list(reasons.values()), color=QUARANTINED)
    by_reason.bar_label(bars, padding=3, fontsize=8)
    by_reason.margins(x=0.15)  # room for the counts at the bars' ends
    by_reason.invert_yaxis()
    by_reason.set(title="Quarantined lines by reason", xlabel="lines")
    drawn["rows"] = figure

    figure, axes = plt.subplots(figsize=(11, 3.6), layout="constrained")
    revenue = result.features.pivot(index="sale_date", columns="store_id", values="revenue")
    revenue.plot(ax=axes, linewidth=1.2, legend=len(revenue.columns) <= MAX_STORES)
    axes.set(title="Daily revenue per store (the feature step's target column)", xlabel="", ylabel="revenue")
    drawn["features"] = figure

    stores = sorted(result.forecast["store_id"].unique())[:MAX_STORES]
    columns = min(4, len(stores))
    rows = -(-len(stores) // columns)
    figure, grid = plt.subplots(
        rows, columns, figsize=(11, 2.6 * rows), squeeze=False, sharex=True, layout="constrained"
    )
    figure.suptitle("Forecast against actual revenue per store, held-out days")
    for axes, store in zip(grid.flat, stores, strict=False):
        days = result.forecast[result.forecast["store_id"] == store]
        labels = [day[5:] for day in days["sale_date"]]
        axes.plot(labels, days["actual"], color="#1d2733", label="actual")
        axes.plot(labels, days["forecast"], color="#2f6db3", label="forecast")
        axes.plot(labels, days["naive"], color="#9aa5b1", linestyle="--", label="naive (a week before)")
        axes.set_title(store, fontsize=10)
        axes.tick_params(axis="x", labelrotation=90, labelsize=7)
    for axes in list(grid.flat)[len(stores) :]:
        axes.set_visible(False)
    grid.flat[0].legend(fontsize=7)
    drawn["forecast"] = figure

    figure, axes = plt.subplots(figsize=(11, 2.4), layout="constrained")
    stages = [stage for stage in STAGES if stage in result.seconds]
    axes.barh(stages, [result.seconds[stage] for stage in stages], color="#2f6db3")
    axes.invert_yaxis()
    axes.set(title="Seconds per stage", xlabel="seconds")
    drawn["timings"] = figure
    return drawn


def quarantined_by_reason(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Quarantined lines per reason over every day, most frequent first."""
    totals: Counter[str] = Counter()
    for day in counts:
        totals.update({reason: count for reason, count in day.items() if reason != "kept"})
    return dict(totals.most_common())


class Markup(str):
    """A table cell that is HTML already (not escaped)."""


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, Markup):
            return value
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
        if value is None:
            return "n/a"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(value)}</td>" for value in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _improvement(evaluation: dict[str, Any]) -> str:
    """The sentence on how much of the seasonal naive forecast's error the model removes."""
    if evaluation["improvement"] is None:
        return "the seasonal naive forecast made no error on them."
    return f"the model removes {evaluation['improvement']:.0%} of the seasonal naive forecast's error."


def _next_day(result: Result) -> str:
    days = result.next_day["sale_date"].unique()
    return str(days[0]) if len(days) else "the next day"


def _image(name: str, png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" title="{name}.png">'


PASSED = Markup('<span class="pass">passed</span>')
FAILED = Markup('<span class="fail">failed</span>')


def page(result: Result, pngs: dict[str, bytes]) -> str:
    """The report as one HTML document, charts embedded."""
    report, evaluation = result.report, result.evaluation
    kept = sum(counts["kept"] for counts in result.counts.values())
    reasons = quarantined_by_reason(result.counts.values())
    passed = sum(outcome.passed for outcome in result.quality)
    cards = [
        ("lines generated", f"{report.lines_written:,}"),
        ("kept", f"{kept:,}"),
        ("quarantined", f"{sum(reasons.values()):,}"),
        ("quality rules passed", f"{passed} of {len(result.quality)}"),
        ("store-days of features", f"{len(result.features):,}"),
        ("forecast WAPE", f"{evaluation['wape']:.3f}"),
        ("seasonal naive WAPE", f"{evaluation['naive_wape']:.3f}"),
        ("total time", f"{sum(result.seconds.values()):.0f} s"),
    ]
    features = result.features
    summary = [
        (
            column,
            int(features[column].notna().sum()),
            features[column].min(),
            features[column].mean(),
            features[column].max(),
        )
        for column in FEATURE_COLUMNS
    ]
    quality = [
        (outcome.rule, PASSED if outcome.passed else FAILED, outcome.reason) for outcome in result.quality
    ]
    total = sum(result.seconds.values())
    sections = [
        f"<h1>Data science platform: the data path, run locally</h1>"
        f"<p>{report.stores} stores, {report.days} days from {report.start}, seed {report.seed}; "
        f"the last {evaluation['validation_days']} days held out for scoring. Every stage ran the "
        f"module its stack ships.</p>",
        '<div class="cards">'
        + "".join(f'<div class="card">{name}<b>{value}</b></div>' for name, value in cards)
        + "</div>",
        "<h2>Glue: lines kept and quarantined</h2>",
        _image("rows", pngs["rows"], "lines kept and quarantined per ingest day, and by reason"),
        _table(["reason", "lines"], [*reasons.items(), ("total quarantined", sum(reasons.values()))]),
        "<h2>Glue: data-quality rules</h2>",
        _table(["rule", "outcome", "why not"], quality),
        "<h2>EMR: store features</h2>",
        _image("features", pngs["features"], "daily revenue per store"),
        _table(["column", "values", "min", "mean", "max"], summary),
        "<h2>SageMaker: forecast against actual</h2>",
        f"<p>Trained on {evaluation['training_rows']} store-days, scored on the "
        f"{evaluation['scored_rows']} of the {evaluation['validation_rows']} held out from "
        f"{evaluation['first_validation_day']} that have a week before: {_improvement(evaluation)} "
        "The Forecast step's script scored each held-out day into <code>store_forecasts</code> "
        "through the inference handlers; the chart reads them back through the lake's "
        "<code>forecasts_vs_actuals</code> view, with the SQL Athena runs.</p>",
        _image("forecast", pngs["forecast"], "forecast, actual and naive revenue per store"),
        _table(
            ["store", "held-out days", "actual revenue", "forecast WAPE", "seasonal naive WAPE"],
            per_store(result.forecast),
        ),
        "<h3>WAPE per day (<code>forecast_accuracy</code>, what the dashboard and the drift alarm read)</h3>",
        _table(
            ["day", "model version", "stores", "actual revenue", "WAPE"],
            result.accuracy[["forecast_date", "model_version", "stores", "actual", "wape"]].itertuples(
                index=False
            ),
        ),
        f"<h3>The forecast of {_next_day(result)} (the feature step's forecast row; no sales yet)</h3>",
        _table(
            ["store", "forecast revenue"], result.next_day[["store_id", "forecast"]].itertuples(index=False)
        ),
        "<h2>Timings</h2>",
        _image("timings", pngs["timings"], "seconds per stage"),
        _table(
            ["stage", "seconds", "share"],
            [(stage, seconds, f"{seconds / total:.0%}") for stage, seconds in result.seconds.items()],
        ),
    ]
    body = "\n".join(sections)
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Platform demo</title>'
        f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def write(result: Result, folder: Path) -> Path:
    """Write the charts as PNG files and the page into ``folder``; the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    pngs = charts(result)
    for name, png in pngs.items():
        (folder / f"{name}.png").write_bytes(png)
    path = folder / REPORT
    path.write_text(page(result, pngs), encoding="utf-8")
    return path
