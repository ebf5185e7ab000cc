"""Run the platform's whole data path locally and write a report: ``make demo`` (``python -m demo``).

Sample data → the Glue ETL (local Spark, quarantine, data-quality rules) → the EMR feature step
(local Spark) → SageMaker training (script mode) → forecasts through the inference handlers →
``<output>/report.html`` with its charts as PNG files. Progress goes to stderr, one line per event.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from demo.pipeline import Sizes


def parse_args(argv: list[str] | None) -> tuple[Sizes, Path, bool]:
    """The sizes, the report folder and whether to keep the zones (beside the report)."""
    defaults = Sizes()
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=defaults.stores, help="stores (default %(default)s)")
    parser.add_argument("--days", type=int, default=defaults.days, help="days of sales (default %(default)s)")
    parser.add_argument(
        "--start", type=date.fromisoformat, default=defaults.start, help="first day, yyyy-mm-dd"
    )
    parser.add_argument(
        "--transactions",
        type=int,
        default=defaults.transactions_per_day,
        help="per store and day (default %(default)s)",
    )
    parser.add_argument(
        "--dirty-share", type=float, default=defaults.dirty_share, help="share of dirty lines"
    )
    parser.add_argument(
        "--validation-days",
        type=int,
        default=defaults.validation_days,
        help="last days held out (default %(default)s)",
    )
    parser.add_argument(
        "--output", type=Path, default=Path("demo-output"), help="report folder (default %(default)s)"
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the zones in <output>/data")
    args = parser.parse_args(argv)
    try:
        sizes = Sizes(
            stores=args.stores,
            days=args.days,
            start=args.start,
            dirty_share=args.dirty_share,
            transactions_per_day=args.transactions,
            validation_days=args.validation_days,
        )
    except ValueError as error:
        parser.error(str(error))
    return sizes, args.output, args.keep_data


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 when every stage ran, 1 when the data-quality gate failed."""
    sizes, output, keep = parse_args(argv)
    from demo import pipeline, report
    from demo.spark import local_session

    started = time.perf_counter()

    def progress(line: str) -> None:
        print(f"{time.perf_counter() - started:6.1f} s  {line}", file=sys.stderr, flush=True)

    progress("starting Spark (local[2])")
    spark = local_session("platform-demo")
    try:
        with tempfile.TemporaryDirectory(prefix="demo-") as scratch:
            root = output / "data" if keep else Path(scratch)
            result = pipeline.run(spark, sizes, root, progress)
    finally:
        spark.stop()
    path = report.write(result, output)
    failed = [outcome.rule for outcome in result.quality if not outcome.passed]
    progress(f"wrote {path} and {', '.join(f'{name}.png' for name in report.CHARTS)}")
    if failed:
        print(f"demo: data-quality rules failed: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
