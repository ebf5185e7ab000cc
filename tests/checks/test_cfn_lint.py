"""cfn-lint over every template of every environment: no errors, no warnings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from scripts.synth_summary import run_cfn_lint
from tests.conftest import Synthesized


def test_templates_pass_cfn_lint(dev: Synthesized, prod: Synthesized) -> None:
    per_env = [sorted(str(path) for path in env.outdir.glob("*.template.json")) for env in (dev, prod)]
    assert [len(templates) for templates in per_env] == [10, 10]
    with ThreadPoolExecutor(max_workers=2) as pool:  # one cfn-lint process per environment and core
        results = list(pool.map(run_cfn_lint, per_env))
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr
