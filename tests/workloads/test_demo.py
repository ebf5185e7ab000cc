"""`make demo`: the data path run locally end to end (the session's run), its report and arguments."""

from __future__ import annotations

import base64
import io
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from demo import __main__ as command
from demo import report
from demo.pipeline import MODEL_VERSION, STAGES, Result
from tests.workloads.conftest import SAMPLE, Sample
from tests.workloads.forecast_features import week_before
from workloads.sagemaker import train
from workloads.schema import STORE_FORECASTS


class Page(HTMLParser):
    """The page's text, images and table rows, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._row is not None and data.strip():
            self._row.append(data.strip())


@pytest.fixture(scope="module")
def written(demo: Result, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Page]:
    path = report.write(demo, tmp_path_factory.mktemp("report"))
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return path, page


def test_the_demo_generates_the_documented_sample(demo: Result, sample: Sample) -> None:
    assert demo.report == sample.report


def test_every_stage_ran_in_order_with_progress_and_a_time(demo: Result, demo_progress: list[str]) -> None:
    assert list(demo.seconds) == list(STAGES) and all(seconds >= 0 for seconds in demo.seconds.values())
    done = [line for line in demo_progress if " done in " in line]
    assert done == [
        f"[{n}/6] {stage} done in {demo.seconds[stage]:.1f} s" for n, stage in enumerate(STAGES, 1)
    ]
    cleaned = [line for line in demo_progress if line.startswith("glue: ingest_date")]
    assert len(cleaned) == SAMPLE["days"] and cleaned[-1].startswith(
        f"glue: ingest_date {list(demo.counts)[-1]} (9/9)"
    )


def test_the_forecast_is_the_handlers_answer_scored_like_training(demo: Result) -> None:
    """The endpoint's handlers answer the held-out rows; their WAPE is the one training reported
    (to the cent the handlers round to), and the naive forecast is the seasonal naive training
    scored against: each store's revenue a week before, on the same rows."""
    forecast, evaluation = demo.forecast, demo.evaluation
    assert len(forecast) == evaluation["validation_rows"] == evaluation["scored_rows"] == SAMPLE["stores"]
    assert forecast["naive"].tolist() == pytest.approx(week_before(demo.features, forecast).tolist())
    assert (
        set(forecast["sale_date"])
        == {evaluation["first_validation_day"]}
        == {list(demo.counts)[-1].isoformat()}
    )
    assert report.wape(forecast["actual"], forecast["forecast"]) == pytest.approx(
        evaluation["wape"], abs=1e-4
    )
    assert report.wape(forecast["actual"], forecast["naive"]) == pytest.approx(evaluation["naive_wape"])
    model = demo.zones.model / train.MODEL_FILE
    assert model.is_file() and (demo.zones.model / "code" / "inference.py").is_file()


def test_the_forecast_stage_writes_store_forecasts_and_reads_them_through_the_views(demo: Result) -> None:
    """Every held-out day and the forecast row's day are scored into ``store_forecasts`` (one file
    per day and model version); the chart's rows are that table against the sales, as
    ``forecasts_vs_actuals`` joins them; ``forecast_accuracy``'s WAPE per day is the one computed
    here from those rows; the forecast row's day has a forecast for every store and no sales."""
    import pyarrow.parquet as pq

    table = demo.zones.analytics / STORE_FORECASTS.prefix
    days = sorted(path.name.removeprefix("forecast_date=") for path in table.iterdir())
    next_day = (date.fromisoformat(max(demo.features["sale_date"])) + timedelta(days=1)).isoformat()
    assert days == [*sorted(set(demo.forecast["sale_date"])), next_day]
    for day in days:
        (written,) = (table / f"forecast_date={day}").iterdir()
        assert written.name == f"model-{MODEL_VERSION}.parquet"
    stored = pq.read_table(table / f"forecast_date={days[0]}").to_pandas()
    first = demo.forecast[demo.forecast["sale_date"] == days[0]]
    assert stored["forecast"].tolist() == first["forecast"].tolist()
    for day, rows in demo.forecast.groupby("sale_date"):
        (accuracy,) = demo.accuracy[demo.accuracy["forecast_date"] == day].itertuples()
        assert accuracy.model_version == MODEL_VERSION and accuracy.stores == len(rows)
        assert accuracy.wape == pytest.approx(report.wape(rows["actual"], rows["forecast"]))
    assert next_day not in set(demo.accuracy["forecast_date"])  # nothing sold yet
    assert list(demo.next_day["store_id"]) == sorted(demo.features["store_id"].unique())
    assert set(demo.next_day["sale_date"]) == {next_day} and demo.next_day["forecast"].notna().all()


def test_the_report_shows_every_section_with_real_charts(demo: Result, written: tuple[Path, Page]) -> None:
    from PIL import Image

    path, page = written
    assert [image["title"] for image in page.images] == [f"{name}.png" for name in report.CHARTS]
    for image in page.images:
        embedded = base64.b64decode(str(image["src"]).removeprefix("data:image/png;base64,"))
        assert embedded == (path.parent / str(image["title"])).read_bytes()
        with Image.open(io.BytesIO(embedded)) as png:
            assert png.format == "PNG" and png.width > 600 and png.height > 200
            assert len(png.convert("RGB").getcolors(maxcolors=100_000) or []) > 20  # drawn, not blank
    rows = {row[0]: row[1:] for row in page.rows}
    for reason, count in report.quarantined_by_reason(demo.counts.values()).items():
        assert rows[reason] == [str(count)]
    for outcome in demo.quality:
        assert rows[outcome.rule] == ["passed"]
    for store in (f"S{number:03}" for number in range(1, SAMPLE["stores"] + 1)):
        assert store in rows
    for stage in STAGES:
        assert stage in rows
    text = " ".join(page.text)
    assert f"{demo.evaluation['wape']:.3f}" in text and "naive WAPE" in text
    assert "WAPE per day" in text and f"The forecast of {demo.next_day['sale_date'].iloc[0]}" in text
    for day in demo.accuracy["forecast_date"]:
        assert day in rows


def test_no_chart_draws_one_axes_labels_over_another(demo: Result) -> None:
    """Legible at the report's size: in every chart, each axes with its title and tick labels stays
    clear of every other axes (the reasons' labels once lay over the ingest days' bars)."""
    from itertools import combinations

    from matplotlib import pyplot as plt

    drawn = report.figures(demo)
    try:
        assert list(drawn) == list(report.CHARTS)
        for name, figure in drawn.items():
            renderer = figure.canvas.get_renderer()
            figure.draw(renderer)
            boxes = [axes.get_tightbbox(renderer) for axes in figure.axes if axes.get_visible()]
            for first, second in combinations(boxes, 2):
                assert not first.overlaps(second), name
    finally:
        plt.close("all")


def test_per_store_scores_add_up_to_the_whole(demo: Result) -> None:
    rows = report.per_store(demo.forecast)
    assert [row[0] for row in rows] == sorted(demo.forecast["store_id"].unique())
    assert sum(row[2] for row in rows) == pytest.approx(demo.forecast["actual"].sum())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--days", "8"], "days must be at least 9, got 8"),
        (["--days", "20", "--validation-days", "13"], "validation days must be 1 to 12 for 20 days"),
        (["--start", "2026-13-01"], "argument --start: invalid fromisoformat value: '2026-13-01'"),
    ],
)
def test_bad_sizes_are_one_line_usage_errors(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        command.main(arguments)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
