"""cfn-lint over every template of every environment: no errors, no warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, Synthesized


def test_templates_pass_cfn_lint(dev: Synthesized, prod: Synthesized) -> None:
    templates = sorted(str(path) for env in (dev, prod) for path in env.outdir.glob("*.template.json"))
    assert len(templates) == 4
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), *templates], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
