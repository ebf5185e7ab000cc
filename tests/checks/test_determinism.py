"""Synth is pure: the same configuration gives byte-identical templates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from config.settings import load_settings
from tests.conftest import ROOT, Synthesized, synthesize


def test_two_synths_of_dev_are_byte_identical(dev: Synthesized, tmp_path: Path) -> None:
    again = synthesize(load_settings("dev"), tmp_path)
    first = sorted(dev.outdir.glob("*.template.json"))
    assert [path.name for path in first] == [
        "Alarms.template.json",
        "DataLake.template.json",
        "Emr.template.json",
        "Glue.template.json",
        "Network.template.json",
        "Observability.template.json",
        "Pipeline.template.json",
        "QuickSight.template.json",
        "SageMaker.template.json",
        "Studio.template.json",
        "Video.template.json",
    ]
    for path in first:
        assert (again.outdir / path.name).read_bytes() == path.read_bytes(), path.name


TEST_ONLY = ("pyspark", "pandas", "numpy", "sklearn", "moto", "matplotlib")
"""Libraries only `make test` installs (requirements-test.txt): a fresh clone's `make synth` has none."""


def test_synth_imports_no_test_only_library() -> None:
    probe = f"import sys, app; print(sorted(set({TEST_ONLY!r}) & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", "the app imports what make synth never installs"
