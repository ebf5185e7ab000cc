"""Summarize a cloud assembly after `cdk synth`: stacks, resources per stack, checks.

cdk-nag runs inside synth, so reaching this script means no unacknowledged finding; this script
counts the acknowledgements and runs cfn-lint over every template (config: ``.cfnlintrc.yaml``).
Exit code is cfn-lint's: non-zero on any error or warning.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
NAG_PACKS = ("AwsSolutions::", "NIST.800.53.R5::")


def stack_rows(assembly: Path) -> list[tuple[str, str, int, int]]:
    """(artifact id, stack name, resource count, acknowledged cdk-nag findings) for every stack."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    rows = []
    for artifact_id, artifact in sorted(manifest["artifacts"].items()):
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        metadata_file = assembly / artifact.get("additionalMetadataFile", "")
        metadata = json.loads(metadata_file.read_text()) if metadata_file.is_file() else {}
        acknowledged = sum(
            rule.startswith(NAG_PACKS)
            for entries in metadata.values()
            for entry in entries
            if entry["type"] == ACKNOWLEDGED
            for rule in entry["data"]
        )
        stack_name = artifact["properties"].get("stackName", artifact_id)
        rows.append((artifact_id, stack_name, len(template.get("Resources", {})), acknowledged))
    return rows


def main(assembly: Path) -> int:
    """Print the summary of ``assembly`` and return cfn-lint's exit code."""
    rows = stack_rows(assembly)
    print(f"\nSynthesized {len(rows)} stacks into {assembly}/")
    for artifact_id, stack_name, resources, acknowledged in rows:
        print(f"  {artifact_id:<12} {stack_name:<28} {resources:>4} resources  {acknowledged:>2} acknowledged findings")
    print("  cdk-nag AwsSolutions + NIST 800-53 rev 5: no unacknowledged findings")
    templates = sorted(str(path) for path in assembly.glob("*.template.json"))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    lint = subprocess.run([str(cfn_lint), *templates], capture_output=True, text=True)
    if lint.returncode:
        print(lint.stdout + lint.stderr)
        print(f"  cfn-lint: FAILED (exit {lint.returncode})")
    else:
        print(f"  cfn-lint: {len(templates)} templates clean")
    return lint.returncode


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))
