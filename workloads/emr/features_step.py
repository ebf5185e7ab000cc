"""``spark-submit`` entry point of the feature step (an EMR step, or a local run).

    spark-submit --py-files modules.zip features_step.py \\
        --curated-url s3://<curated bucket> --raw-url s3://<raw bucket> \\
        --analytics-url s3://<analytics bucket> --first-day 2026-03-06 [--last-day 2026-03-08]

Computes :mod:`workloads.emr.features` for every day from ``--first-day`` to ``--last-day``
(default: the first day), and every earlier day whose inputs a late upload changed since its features
were written (:func:`workloads.emr.features.stale_days`), and replaces those days' partitions of the
analytics table, and writes the forecast row of the day after the last (see
:mod:`workloads.emr.features`). The last day
(the pipeline's run date) without curated transactions stops the step with one line naming it (exit
status 2): its ingest has not run. An earlier day without any is history the lake does not have
(before its first day, or a day every store was closed): it gets no rows and the step goes on.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta

from pyspark.sql import SparkSession

from workloads.emr.features import MissingInputDay, run
from workloads.lake_io import SESSION_CONF


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="features_step", description=__doc__.splitlines()[0])
    for zone in ("curated", "raw", "analytics"):
        parser.add_argument(f"--{zone}-url", required=True, help=f"s3:// URL (or folder) of the {zone} zone")
    parser.add_argument("--first-day", required=True, type=date.fromisoformat, help="yyyy-mm-dd")
    parser.add_argument("--last-day", type=date.fromisoformat, help="yyyy-mm-dd (default: --first-day)")
    arguments = parser.parse_args(argv)
    if arguments.last_day is not None and arguments.last_day < arguments.first_day:
        parser.error("--last-day is before --first-day")
    return arguments


def main(argv: list[str]) -> int:
    """Run the step with ``argv`` (without the program name); the exit status."""
    arguments = _arguments(argv)
    last = arguments.last_day or arguments.first_day
    days = [arguments.first_day + timedelta(days=n) for n in range((last - arguments.first_day).days + 1)]
    builder = SparkSession.builder.appName("store-daily-features")
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        written, computed = run(
            spark,
            curated_url=arguments.curated_url,
            raw_url=arguments.raw_url,
            analytics_url=arguments.analytics_url,
            days=days,
            required=[last],
            forecast=True,
        )
    except MissingInputDay as error:
        print(f"features_step: {error}", file=sys.stderr)
        return 2
    late = [day.isoformat() for day in computed if day not in days]
    print(
        f"features_step: wrote {written} store-days for {days[0]}..{days[-1]}"
        + (f" and the days whose inputs changed since: {', '.join(late)}" if late else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
