"""Reading IAM policies of synthesized stacks: a role's statements, and which lake buckets they reach."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Synthesized
from tests.unit.test_data_lake_stack import DATA_BUCKETS


def as_list(value: Any) -> list[Any]:
    """A policy field (``Action``, ``Resource``) as a list, whether written as one value or many."""
    return value if isinstance(value, list) else [value]


def role_statements(env: Synthesized, stack: str, role: str) -> list[dict[str, Any]]:
    """The statements of the one policy attached to the role with logical ID ``role``."""
    (policy,) = [
        policy
        for policy in env.resources(stack, "AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"] == [{"Ref": role}]
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def lake_buckets(value: Any) -> set[str]:
    """Which lake buckets (``raw``, ``curated``, ...) a template value references."""
    text = json.dumps(value)
    return {zone for zone, logical_id in DATA_BUCKETS.items() if logical_id in text}


def lake_grants(env: Synthesized, stack: str, role: str) -> dict[str, tuple[set[str], set[str]]]:
    """Lake bucket -> (actions, resource suffixes after the bucket ARN) granted to ``role``."""
    grants: dict[str, tuple[set[str], set[str]]] = {}
    for statement in role_statements(env, stack, role):
        for resource in as_list(statement["Resource"]):
            for zone in lake_buckets(resource):
                actions, suffixes = grants.setdefault(zone, (set(), set()))
                actions.update(as_list(statement["Action"]))
                suffixes.add(resource["Fn::Join"][1][-1] if "Fn::Join" in resource else "")
    return grants
