"""Every ``iam:PassRole`` a template grants names the one service the role may be passed to."""

from __future__ import annotations

from tests.conftest import Synthesized
from tests.unit.policies import as_list, policy_statements


def test_every_pass_role_is_limited_to_the_service_it_is_passed_to(env: Synthesized) -> None:
    unlimited, passes = [], 0
    for artifact in env.assembly.stacks:
        for statement in policy_statements(env.raw(artifact.id)):
            if statement.body.get("Effect") != "Allow" or "iam:PassRole" not in as_list(
                statement.body.get("Action", [])
            ):
                continue
            passes += 1
            services = statement.body.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
            if not services or any(not service.endswith(".amazonaws.com") for service in as_list(services)):
                unlimited.append(f"{artifact.id} {statement.logical_id} {statement.label}")
    assert passes > 0
    assert unlimited == []
