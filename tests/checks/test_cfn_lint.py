"""cfn-lint over every template of every environment: no errors, no warnings."""

from __future__ import annotations

from scripts.synth_summary import run_cfn_lint
from tests.conftest import Synthesized


def test_templates_pass_cfn_lint(dev: Synthesized, prod: Synthesized) -> None:
    templates = sorted(str(path) for env in (dev, prod) for path in env.outdir.glob("*.template.json"))
    assert len(templates) == 20
    result = run_cfn_lint(templates)
    assert result.returncode == 0, result.stdout + result.stderr
