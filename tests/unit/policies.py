"""Reading IAM policies of synthesized stacks: a role's statements, which lake buckets they reach, and
every statement of every policy a template holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Statement:
    """One statement of a policy in a template: the resource that holds the policy, where the
    statement sits in it (``KeyPolicy statement 2 (Sid ...)``) and the statement itself."""

    logical_id: str
    label: str
    body: dict[str, Any]


def policy_statements(template: dict[str, Any]) -> Iterator[Statement]:
    """Every statement of every policy in ``template``: identity, trust, key, bucket, topic, queue
    and IoT policy documents wherever a resource's properties hold one (both branches of an
    ``Fn::If``), and a Lambda permission's action as a statement of its own."""
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Permission":
            yield Statement(logical_id, "Action", {"Action": properties["Action"]})
        for where, document in _documents(properties, ""):
            for index, statement in enumerate(_branches(document["Statement"])):
                sid = f" (Sid {statement['Sid']})" if "Sid" in statement else ""
                yield Statement(logical_id, f"{where} statement {index}{sid}", statement)


def _documents(value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(property path, document) of every policy document (a mapping with a ``Statement`` list)."""
    if isinstance(value, dict):
        if isinstance(value.get("Statement"), list):
            yield where, value
            return
        for key, inner in value.items():
            yield from _documents(inner, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _documents(inner, f"{where}[{index}]")


def _branches(statements: list[Any]) -> Iterator[dict[str, Any]]:
    """The statements of a list, with each ``Fn::If`` replaced by the statements of both branches."""
    for statement in statements:
        if isinstance(statement, dict) and "Fn::If" in statement:
            branches = statement["Fn::If"][1:]
            yield from _branches([branch for branch in branches if branch != {"Ref": "AWS::NoValue"}])
        else:
            yield statement
