"""Benchmark: an empty CDK app (the floor), the full synth of one environment, and `make test`.

Both synths run the same way (``python <script>`` with ``CDK_OUTDIR``), interleaved, several times;
the median is reported with the ratio synth/floor. Budget: at most 2x the floor for the whole
platform; `make test` at most 120 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], environ: dict[str, str]) -> float:
    """Seconds one run of ``command`` takes; raises if it fails."""
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=environ, check=True, capture_output=True)
    return time.perf_counter() - start


def synth_seconds(environment: str, *script: str) -> float:
    """One synth of ``script`` (path and arguments) into a fresh temporary cloud assembly."""
    with tempfile.TemporaryDirectory() as outdir:
        environ = {**os.environ, "CDK_OUTDIR": outdir, "CDK_CONTEXT_JSON": json.dumps({"env": environment})}
        return timed([sys.executable, *script], environ)


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", help="environment to synthesize (default: dev)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each synth (default: 5)")
    parser.add_argument("--test-runs", type=int, default=1, help="runs of `make test` (default: 1)")
    args = parser.parse_args()

    floor: list[float] = []
    bare: list[float] = []
    full: list[float] = []
    for _ in range(args.runs):
        floor.append(synth_seconds(args.env, "scripts/empty_app.py"))
        bare.append(synth_seconds(args.env, "scripts/empty_app.py", "bare"))
        full.append(synth_seconds(args.env, "-O", "app.py"))  # as cdk.json runs it
    tests = [timed(["make", "--no-print-directory", "test"], dict(os.environ)) for _ in range(args.test_runs)]

    floor_s, bare_s, full_s, test_s = (statistics.median(x) for x in (floor, bare, full, tests))
    print(f"empty app synth (floor)            {floor_s:6.2f} s   median of {args.runs}")
    print(f"empty app, no built-in validation  {bare_s:6.2f} s   median of {args.runs}")
    print(f"{args.env + ' synth, all checks':<34} {full_s:6.2f} s   median of {args.runs}")
    print(f"synth / floor                      {full_s / floor_s:6.2f} x  (budget 2 x, whole platform)")
    print(f"make test                          {test_s:6.2f} s   median of {args.test_runs} (budget 120 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
