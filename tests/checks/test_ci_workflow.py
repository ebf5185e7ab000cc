"""The CI workflow forks run: least privilege for its token, and only actions pinned to a commit."""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github/workflows/ci.yml"


def test_the_token_may_only_read_the_code() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in workflow["jobs"].values())


def test_every_action_is_pinned_to_a_full_commit_sha() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    uses = [step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use) for use in uses), uses
    checkout = next(
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "checkout" in step.get("uses", "")
    )
    assert checkout["with"]["persist-credentials"] is False
