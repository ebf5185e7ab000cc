"""Rebuild the endpoint's baseline model from the sample data: ``make baseline-model``.

Runs the platform's own pipeline locally: the seeded sample-data generator writes a raw zone, the
Glue transform cleans every day into the curated zone, the EMR feature step computes
``store_daily_features``, and ``workloads/sagemaker/train.py`` trains on them with the default
hyperparameters. The model bundle goes to ``workloads/sagemaker/baseline/model.joblib``, which the
SageMaker stack packs (with the current ``inference.py``) into the model a fresh deployment serves
until the first trained model is promoted. Same inputs, same bytes: the generator is seeded and
the trees are fitted on one thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # before scikit-learn loads: one thread sums gradients in one order

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "workloads" / "sagemaker" / "baseline" / "model.joblib"
DAYS = 56
"""Eight weeks: enough history for the 28-day averages and a 14-day held-out window."""
HYPERPARAMETERS = ["--max_iter", "50", "--max_leaf_nodes", "7"]
"""Small trees for a small sample; with compression the bundle stays a few tens of kilobytes."""


def main(argv: list[str] | None = None) -> int:
    """Build the baseline bundle into ``--output`` (default: the committed one)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=BASELINE)
    args = parser.parse_args(argv)

    import joblib
    from pyspark.sql import SparkSession

    from workloads.emr.features import run
    from workloads.glue.transform import clean_day, write_day
    from workloads.lake_io import SESSION_CONF
    from workloads.sagemaker import contract, train
    from workloads.sample_data import generate

    builder = SparkSession.builder.master("local[2]").appName("baseline-model")
    for key, value in {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        **SESSION_CONF,
    }.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    with tempfile.TemporaryDirectory(prefix="baseline-") as work:
        raw, curated, analytics = (Path(work) / zone for zone in ("raw", "curated", "analytics"))
        report = generate(
            raw, stores=8, days=DAYS, start=date(2026, 1, 5), dirty_share=0.02, transactions_per_day=20
        )
        days = [date.fromisoformat(report.start) + timedelta(days=n) for n in range(report.days)]
        for day in days:
            result = clean_day(spark, str(raw), day)
            write_day(result, str(curated))
            result.release()
        run(spark, curated_url=str(curated), raw_url=str(raw), analytics_url=str(analytics), days=days)
        spark.stop()
        model_dir, output_dir = Path(work) / "model", Path(work) / "output"
        paths = [
            "--features",
            str(analytics),
            "--model_dir",
            str(model_dir),
            "--output_data_dir",
            str(output_dir),
        ]
        code = train.main([*paths, *HYPERPARAMETERS])
        if code != 0:
            return code
        args.output.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(joblib.load(model_dir / contract.MODEL_FILE), args.output, compress=9)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
