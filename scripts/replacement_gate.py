"""Replacement gate: fail when a change would delete or replace a stateful resource.

A baseline per environment (``baseline/<env>.json``, committed) records every stateful resource of
the synthesized templates (stack, logical ID, type) with the values of its create-only properties,
the ones CloudFormation can change only by replacing the resource, as the resource schemas shipped
with cfn-lint list them. ``check`` compares a new synth with it: a logical ID that is gone means the
resource is deleted (a renamed construct ID gives a new logical ID), a changed create-only value
means it is replaced, and a stateful resource the baseline does not hold yet is reported too.
``update`` (``make baseline``) records the current templates deliberately.

    python -m scripts.replacement_gate check --env dev cdk.out
    python -m scripts.replacement_gate update            # every environment, synthesized here
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scripts.templates import MISSING, Templates, at_path, create_only_properties, read_templates, resources

ROOT = Path(__file__).resolve().parents[1]
BASELINE_DIR = ROOT / "baseline"

STATEFUL_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::Glue::Database",
        "AWS::Glue::Table",
        "AWS::KinesisVideo::Stream",
        "AWS::SageMaker::ModelPackageGroup",
        "AWS::Logs::LogGroup",
        "AWS::SQS::Queue",
        "AWS::Glue::SecurityConfiguration",
        "AWS::EMR::SecurityConfiguration",
    }
)
"""Resources that hold data, keys, audit logs, registered models or failed events to replay: losing
one loses what it holds (or, for a key, everything encrypted under it)."""

SCHEMA_GAPS = {"AWS::Glue::Database": ("/properties/DatabaseInput/Name",)}
"""Create-only paths the schemas leave out: the Glue schema marks only its legacy ``DatabaseName``,
while CDK names a database in ``DatabaseInput``; a new name is a new, empty database."""

Baseline = dict[str, dict[str, dict[str, Any]]]
"""Stack name -> logical ID -> {"type": ..., "create_only": {path: value}}."""


def snapshot(templates: Templates) -> Baseline:
    """Every stateful resource of ``templates`` with the create-only values it sets."""
    result: Baseline = {}
    for stack, logical_id, resource in resources(templates):
        resource_type = resource["Type"]
        if resource_type not in STATEFUL_TYPES:
            continue
        properties = resource.get("Properties", {})
        paths = (*create_only_properties(resource_type), *SCHEMA_GAPS.get(resource_type, ()))
        values = {path: at_path(properties, path) for path in sorted(paths)}
        result.setdefault(stack, {})[logical_id] = {
            "type": resource_type,
            "create_only": {path: value for path, value in values.items() if value is not MISSING},
        }
    return result


def findings(baseline: Baseline, current: Baseline) -> list[str]:
    """One message per stateful resource of ``baseline`` that ``current`` deletes or replaces, and
    per stateful resource of ``current`` the baseline does not hold yet (a new place for data is
    recorded deliberately, so the gate protects it from then on)."""
    messages = [
        f"{stack}: {logical_id} ({resource['type']}) is NEW: the baseline does not hold it, so the gate "
        f"cannot protect it. {_WAY_OUT}"
        for stack, now in sorted(current.items())
        for logical_id, resource in sorted(now.items())
        if logical_id not in baseline.get(stack, {})
    ]
    for stack, recorded in sorted(baseline.items()):
        now = current.get(stack, {})
        for logical_id, before in sorted(recorded.items()):
            after = now.get(logical_id)
            what = f"{stack}: {logical_id} ({before['type']})"
            if after is None:
                messages.append(_deleted(what, logical_id, before["type"], stack in current, recorded, now))
                continue
            if after["type"] != before["type"]:
                messages.append(f"{what} would be REPLACED: its type becomes {after['type']}. {_WAY_OUT}")
                continue
            old, new = before["create_only"], after["create_only"]
            for path in sorted(set(old) | set(new)):
                if old.get(path, MISSING) != new.get(path, MISSING):
                    messages.append(
                        f"{what} would be REPLACED: create-only property {path.removeprefix('/properties/')} "
                        f"changes from {_show(old.get(path, MISSING))} to {_show(new.get(path, MISSING))}. "
                        f"Keep the old value, or move the data first. {_WAY_OUT}"
                    )
    return messages


_WAY_OUT = "If this is intended, run `make baseline` and commit the baseline with the change."


def _deleted(
    what: str,
    logical_id: str,
    resource_type: str,
    stack_exists: bool,
    recorded: dict[str, dict[str, Any]],
    now: dict[str, dict[str, Any]],
) -> str:
    """The message for a stateful resource whose logical ID (or whole stack) is gone."""
    if not stack_exists:
        return f"{what} would be DELETED with its stack, which is no longer synthesized. {_WAY_OUT}"
    new = sorted(i for i, r in now.items() if r["type"] == resource_type and i not in recorded)
    hint = f" New {resource_type} in the stack: {', '.join(new)}." if new else ""
    return (
        f"{what} would be DELETED: its logical ID is gone (a renamed or moved construct gets a new one)."
        f"{hint} Keep the construct ID and path, or pin the old ID with "
        f'`resource.node.default_child.override_logical_id("{logical_id}")`. {_WAY_OUT}'
    )


def _show(value: Any) -> str:
    return "(unset)" if value is MISSING else json.dumps(value, sort_keys=True)


def baseline_path(environment: str) -> Path:
    """Where the committed baseline of ``environment`` lives."""
    return BASELINE_DIR / f"{environment}.json"


def read_baseline(environment: str) -> Baseline:
    """The committed baseline of ``environment``; empty when none was recorded yet."""
    path = baseline_path(environment)
    baseline: Baseline = json.loads(path.read_text()) if path.is_file() else {}
    return baseline


def write_baseline(environment: str, templates: Templates) -> Path:
    """Record the stateful resources of ``templates`` as ``environment``'s baseline."""
    path = baseline_path(environment)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(snapshot(templates), indent=1, sort_keys=True) + "\n")
    return path


def main() -> int:
    """``check`` one assembly against its baseline (exit 1 on a finding), or ``update`` baselines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="compare a synthesized assembly with the baseline")
    check.add_argument("--env", required=True, help="environment the assembly was synthesized for")
    check.add_argument("assembly", type=Path, help="the cloud assembly folder (cdk.out)")
    update = commands.add_parser("update", help="synthesize environments and record their baselines")
    update.add_argument("environments", nargs="*", help="default: every environment in config/")
    args = parser.parse_args()

    if args.command == "check":
        messages = findings(read_baseline(args.env), snapshot(read_templates(args.assembly)))
        for message in messages:
            print(f"replacement gate: {message}")
        print(f"replacement gate ({args.env}): {len(messages)} stateful resources new, deleted or replaced")
        return 1 if messages else 0

    from config.settings import available_environments
    from scripts.templates import synthesized

    for environment in args.environments or available_environments():
        with synthesized(environment) as assembly:
            print(f"wrote {write_baseline(environment, read_templates(assembly)).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
