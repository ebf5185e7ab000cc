"""Personal data in the raw zone (camera frames, captured endpoint requests) is read by no role that
was granted "raw": every grant on the raw bucket names the prefixes its workload reads."""

from __future__ import annotations

from fnmatch import fnmatch

from stacks.sagemaker_stack import CAPTURE_PREFIX
from stacks.video_stack import FRAMES_PREFIX
from tests.conftest import Synthesized
from tests.unit.policies import as_list, lake_buckets, policy_statements

PERSONAL = {
    "frames": f"{FRAMES_PREFIX}camera-1/frame.jpg",
    "captures": f"{CAPTURE_PREFIX}2026/12/02/capture.jsonl",
}
"""A key of each personal data class in the raw bucket."""
READS = {"s3:GetObject", "s3:GetObjectVersion", "s3:*"}


def test_no_role_may_read_frames_or_captured_requests(env: Synthesized) -> None:
    readers, raw_grants = [], 0
    for artifact in env.assembly.stacks:
        for statement in policy_statements(env.raw(artifact.id)):
            body = statement.body
            if body.get("Effect") != "Allow" or not READS & set(as_list(body.get("Action", []))):
                continue
            for resource in as_list(body.get("Resource", [])):
                if lake_buckets(resource) != {"raw"}:
                    continue
                raw_grants += 1
                suffix = resource["Fn::Join"][1][-1].removeprefix("/") if "Fn::Join" in resource else ""
                readers += [
                    f"{artifact.id} {statement.logical_id} reads {kind} ({suffix})"
                    for kind, key in PERSONAL.items()
                    if suffix and fnmatch(key, suffix)
                ]
    assert raw_grants > 0
    assert readers == []
