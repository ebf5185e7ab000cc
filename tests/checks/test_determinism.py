"""Synth is pure: the same configuration gives byte-identical templates."""

from __future__ import annotations

import json
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


def test_synth_imports_no_test_only_library_and_make_setup_compiles_what_it_imports() -> None:
    """What the app imports: no test-only library, and from site-packages only what ``make setup``
    compiles for ``python -O`` (cdk.json's command), so no synth compiles a library again."""
    probe = (
        "import json, sys, sysconfig, app; site = sysconfig.get_path('purelib') + '/'; "
        f"print(json.dumps([sorted(set({TEST_ONLY!r}) & set(sys.modules)), sorted({{"
        "m.__file__.removeprefix(site).split('/')[0] for m in list(sys.modules.values()) "
        "if (getattr(m, '__file__', None) or '').startswith(site)})]))"
    )
    result = subprocess.run([sys.executable, "-O", "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    test_only, imported = json.loads(result.stdout)
    assert test_only == [], "the app imports what make synth never installs"
    makefile = (ROOT / "Makefile").read_text()
    compiled = makefile.split("SYNTH_PACKAGES :=", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ").split()
    editable = [name for name in imported if name.startswith(("__editable__", "_distutils_hack"))]
    assert sorted(set(imported) - set(editable)) == sorted(compiled)
    assert json.loads((ROOT / "cdk.json").read_text())["app"] == ".venv/bin/python -O app.py"
