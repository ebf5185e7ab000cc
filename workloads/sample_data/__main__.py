"""``python -m workloads.sample_data``: write the sample data set (``make sample-data``)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from workloads.sample_data.generator import generate


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, generate, print the report's summary."""
    parser = argparse.ArgumentParser(prog="make sample-data", description=__doc__)
    parser.add_argument(
        "--output", type=Path, default=Path("sample-data"), help="folder (default: sample-data)"
    )
    parser.add_argument("--stores", type=int, default=8, help="stores (default: 8)")
    parser.add_argument("--days", type=int, default=14, help="business days (default: 14)")
    parser.add_argument(
        "--start", type=date.fromisoformat, default=date(2026, 3, 2), help="first day, yyyy-mm-dd"
    )
    parser.add_argument(
        "--dirty-share", type=float, default=0.02, help="share of dirty lines (default: 0.02)"
    )
    parser.add_argument("--per-day", type=int, default=40, help="mean transactions per store and day")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    args = parser.parse_args(argv)
    try:
        report = generate(
            args.output,
            stores=args.stores,
            days=args.days,
            start=args.start,
            dirty_share=args.dirty_share,
            transactions_per_day=args.per_day,
            seed=args.seed,
        )
    except ValueError as error:
        parser.error(str(error))
    dirty = ", ".join(f"{kind} {count}" for kind, count in report.dirty.items())
    print(f"wrote {len(report.files)} files, {report.lines_written} lines into {args.output}/")
    print(f"  clean {report.clean_lines}; dirty: {dirty}; unreadable files {len(report.unreadable_files)}")
    print(f"  report: {args.output / '_report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
