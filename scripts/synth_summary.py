"""Summarize a cloud assembly after `cdk synth`: stacks, resources per stack, checks.

cdk-nag runs inside synth, so reaching this script means no unacknowledged finding; this script
counts the acknowledgements and runs cfn-lint over every template (config: ``.cfnlintrc.yaml``).
Exit code is cfn-lint's: non-zero on any error or warning.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from config.regions import SUPPORTED_REGIONS
from scripts.templates import stack_artifacts

NAG_PACKS = ("AwsSolutions::", "NIST.800.53.R5::")


def stacks(assembly: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(artifact id, manifest entry) of every stack in the assembly, sorted by id."""
    yield from stack_artifacts(assembly).items()


def nag_acknowledgements(assembly: Path, artifact: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(construct path, rule, reason) of every cdk-nag acknowledgement recorded for one stack."""
    metadata_file = assembly / artifact.get("additionalMetadataFile", "")
    metadata = json.loads(metadata_file.read_text()) if metadata_file.is_file() else {}
    return [
        (path, rule, reason)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
        if rule.startswith(NAG_PACKS)
    ]


def run_cfn_lint(templates: list[str], *options: str) -> subprocess.CompletedProcess[str]:
    """cfn-lint of this environment's venv over ``templates``, configured by ``.cfnlintrc.yaml``, with
    command-line ``options`` (``--regions``, ``--format``) on top."""
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    repo = Path(__file__).resolve().parents[1]
    command = [str(cfn_lint), *options, "--", *templates]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True)


def main(assembly: Path) -> int:
    """Print the summary of ``assembly`` and return cfn-lint's exit code."""
    rows = list(stacks(assembly))
    print(f"\nSynthesized {len(rows)} stacks into {assembly}/")
    width = max(len(artifact_id) for artifact_id, _ in rows)
    for artifact_id, artifact in rows:
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        stack_name = artifact["properties"].get("stackName", artifact_id)
        resources = len(template.get("Resources", {}))
        acknowledged = len(nag_acknowledgements(assembly, artifact))
        counts = f"{resources:>4} resources  {acknowledged:>2} acknowledged findings"
        print(f"  {artifact_id:<{width}} {stack_name:<32} {counts}")
    print("  cdk-nag AwsSolutions + NIST 800-53 rev 5: no unacknowledged findings")
    templates = sorted(str(path) for path in assembly.glob("*.template.json"))
    lint = run_cfn_lint(templates, "--regions", *SUPPORTED_REGIONS)
    if lint.returncode:
        print(lint.stdout + lint.stderr)
        print(f"  cfn-lint: FAILED (exit {lint.returncode})")
    else:
        print(f"  cfn-lint: {len(templates)} templates clean in {len(SUPPORTED_REGIONS)} regions")
    return lint.returncode


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))
