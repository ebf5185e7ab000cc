"""cfn-lint over every template of every environment, for every supported region: no errors, no
warnings. A resource type (or property) missing in one region fails with the region, the template
and the resource named."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from config.regions import SUPPORTED_REGIONS
from scripts.synth_summary import run_cfn_lint
from tests.conftest import Synthesized

LATER_TYPES = ("AWS::EMRServerless::Application",)
"""Types a coming issue adds, which every supported region must already have."""


def lint(templates: list[str]) -> list[tuple[tuple[str, str, str], str]]:
    """(rule, template, resource type) and a line naming region, template and resource, for each
    cfn-lint finding over ``templates`` in every supported region."""
    result = run_cfn_lint(templates, "--format", "json", "--regions", *SUPPORTED_REGIONS)
    assert result.returncode == 0 or result.stdout.startswith("["), result.stdout + result.stderr
    return [describe(finding) for finding in json.loads(result.stdout or "[]")]


def describe(finding: dict[str, Any]) -> tuple[tuple[str, str, str], str]:
    """A cfn-lint JSON finding as ((rule, template, resource type), one readable line)."""
    path = Path(finding["Filename"])
    template = path.name.removesuffix(".template.json")
    location = finding["Location"]["Path"]
    logical_id = location[1] if len(location) > 1 and location[0] == "Resources" else None
    resources = json.loads(path.read_text()).get("Resources", {})
    resource_type = resources[logical_id]["Type"] if logical_id in resources else "-"
    message = finding["Message"]
    regions = [region for region in SUPPORTED_REGIONS if f"'{region}'" in message] or ["every region"]
    rule = finding["Rule"]["Id"]
    line = f"{', '.join(regions)}: {template}: {logical_id or '/'.join(map(str, location))}"
    return (rule, template, resource_type), f"{line} ({resource_type}): {rule} {message}"


def canary(directory: Path) -> str:
    """A tiny template whose one resource, a cost report, has a type CloudFormation has in
    us-east-1 only: linted with the platform's templates, it proves the check sees a missing type."""
    report = {
        "ReportName": "costs",
        "TimeUnit": "DAILY",
        "Format": "Parquet",
        "Compression": "Parquet",
        "S3Bucket": "reports",
        "S3Prefix": "cur",
        "S3Region": "eu-west-1",
        "RefreshClosedReports": True,
        "ReportVersioning": "OVERWRITE_REPORT",
        "AdditionalArtifacts": ["ATHENA"],
    }
    template = directory / "Canary.template.json"
    resources = {"Report": {"Type": "AWS::CUR::ReportDefinition", "Properties": report}}
    template.write_text(json.dumps({"Resources": resources}))
    return str(template)


def test_templates_pass_cfn_lint_in_every_supported_region(
    dev: Synthesized, prod: Synthesized, tmp_path: Path
) -> None:
    per_env = [sorted(str(path) for path in env.outdir.glob("*.template.json")) for env in (dev, prod)]
    assert [len(templates) for templates in per_env] == [11, 11]
    per_env[0].append(canary(tmp_path))  # in the same process: a second cfn-lint start costs ~2 s
    with ThreadPoolExecutor(max_workers=2) as pool:  # one cfn-lint process per environment and core
        findings = [finding for found in pool.map(lint, per_env) for finding in found]
    caught = [line for (_, template, _), line in findings if template == "Canary"]
    assert len(caught) == len(SUPPORTED_REGIONS) - 1, caught  # every region but us-east-1
    assert "eu-west-1: Canary: Report (AWS::CUR::ReportDefinition): E3006 " in "\n".join(caught)
    unexpected = [line for (_, template, _), line in findings if template != "Canary"]
    assert not unexpected, "\n".join(unexpected)


def test_types_a_coming_issue_adds_exist_in_every_supported_region() -> None:
    missing = [
        (region, resource_type)
        for region in SUPPORTED_REGIONS
        for resource_type in LATER_TYPES
        if resource_type not in PROVIDER_SCHEMA_MANAGER.get_resource_types(region)
    ]
    assert not missing
