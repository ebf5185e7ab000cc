"""Rebuild the endpoint's baseline model from the sample data: ``make baseline-model``.

Runs the demo's data path (:mod:`demo.pipeline`) on eight weeks of seeded sample data: the Glue
transform cleans every day, the EMR feature step computes ``store_daily_features``, and
``workloads/sagemaker/train.py`` trains on them with small trees. The model bundle goes to
``workloads/sagemaker/baseline/model.joblib``, which the SageMaker stack packs (with the current
``inference.py``) into the model a fresh deployment serves until the first trained model is
promoted. Same inputs, same bytes: the generator is seeded and the trees are fitted on one thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # before scikit-learn loads: one thread sums gradients in one order

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "workloads" / "sagemaker" / "baseline" / "model.joblib"


def main(argv: list[str] | None = None) -> int:
    """Build the baseline bundle into ``--output`` (default: the committed one)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=BASELINE)
    args = parser.parse_args(argv)

    import joblib

    from demo import pipeline
    from demo.spark import local_session
    from workloads.sagemaker import contract

    sizes = pipeline.Sizes(
        stores=8,
        days=56,  # enough history for the 28-day averages and a 14-day held-out window
        start=date(2026, 1, 5),
        dirty_share=0.02,
        transactions_per_day=20,
        validation_days=14,
        hyperparameters=("--max_iter", "50", "--max_leaf_nodes", "7"),  # small trees: a bundle of kilobytes
    )
    spark = local_session("baseline-model")
    try:
        with tempfile.TemporaryDirectory(prefix="baseline-") as work:
            result = pipeline.run(spark, sizes, Path(work), lambda line: print(line, file=sys.stderr))
            args.output.parent.mkdir(parents=True, exist_ok=True)
            joblib.dump(joblib.load(result.zones.model / contract.MODEL_FILE), args.output, compress=9)
    finally:
        spark.stop()
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
