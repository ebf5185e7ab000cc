"""Two copies of the platform in one account and region: every physical name the templates force
comes from prefix and environment, so a second copy with another prefix collides with nothing.

A forced name is a create-only property of a resource whose name ends in ``Name``, ``Id`` or
``Alias`` (from the resource schemas cfn-lint ships) set to a value the template fixes; a value built
on a generated name (a ``Ref`` to a resource CloudFormation names) is unique by construction.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.settings import load_settings
from scripts.replacement_gate import SCHEMA_GAPS
from scripts.templates import MISSING, Templates, at_path, create_only_properties, read_templates, resources
from tests.conftest import Synthesized, synthesize

NAME_ENDINGS = ("Name", "Id", "Alias")
SCOPES = ("/properties/AwsAccountId", "/properties/CatalogId")
"""Paths that say where a name lives (this account), not what it is."""


def _name_paths(resource_type: str) -> list[str]:
    paths = [*create_only_properties(resource_type), *SCHEMA_GAPS.get(resource_type, ())]
    return sorted(p for p in paths if p.endswith(NAME_ENDINGS) and p not in SCOPES)


def _render(templates: Templates, stack: str, value: Any) -> str | None:
    """The name ``value`` evaluates to, with pseudo parameters as ``${...}``; None when it is built
    on a name CloudFormation generates."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return None
    if "Ref" in value:
        target = value["Ref"]
        if target.startswith("AWS::"):
            return f"${{{target}}}"
        resource = templates[stack]["Resources"][target]
        names = [at_path(resource.get("Properties", {}), p) for p in _name_paths(resource["Type"])]
        given = [n for n in names if n is not MISSING]
        return _render(templates, stack, given[0]) if len(given) == 1 else None
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        rendered = [_render(templates, stack, part) for part in parts]
        return None if None in rendered else separator.join(rendered)  # type: ignore[arg-type]
    if "Fn::GetStackOutput" in value:
        output = value["Fn::GetStackOutput"]
        producer = output["StackName"]
        return _render(templates, producer, templates[producer]["Outputs"][output["OutputName"]]["Value"])
    return None


def forced_names(templates: Templates) -> dict[tuple[str, tuple[str, ...]], str]:
    """(resource type, its forced name parts) -> where it stands, for every resource whose name the
    templates fix."""
    names = {}
    for stack, logical_id, resource in resources(templates):
        properties = resource.get("Properties", {})
        values = [at_path(properties, path) for path in _name_paths(resource["Type"])]
        parts = tuple(_render(templates, stack, v) for v in values if v is not MISSING)
        if parts and None not in parts:
            names[resource["Type"], parts] = f"{stack}/{logical_id}"  # type: ignore[assignment]
    return names


@pytest.fixture(scope="module")
def second_copy(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """dev again, under another prefix, synthesized with every check."""
    settings = load_settings("dev").model_copy(update={"prefix": "dsq"})
    return read_templates(synthesize(settings, tmp_path_factory.mktemp("second-copy")).outdir)


def test_a_second_copy_with_another_prefix_shares_no_forced_name(
    dev: Synthesized, second_copy: Templates
) -> None:
    first, second = forced_names(read_templates(dev.outdir)), forced_names(second_copy)
    shared = {name: (where, second[name]) for name, where in first.items() if name in second}
    assert shared == {}


@pytest.mark.parametrize(
    ("resource_type", "example"),
    [
        ("AWS::Glue::Database", ("dsp_dev_raw",)),
        ("AWS::Athena::WorkGroup", ("dsp-dev",)),
        ("AWS::KinesisVideo::Stream", ("dsp-dev-store-001-entrance",)),
        ("AWS::QuickSight::DataSet", ("dsp-dev-transactions",)),
        ("AWS::StepFunctions::StateMachine", None),
        ("AWS::Logs::LogGroup", None),
        ("AWS::Glue::SecurityConfiguration", ("dsp-dev-glue",)),
        ("AWS::KMS::Alias", ("alias/dsp-dev-lake",)),
        ("AWS::CloudWatch::Dashboard", ("dsp-dev-platform",)),
    ],
)
def test_the_check_sees_the_names_the_platform_forces(
    dev: Synthesized, resource_type: str, example: tuple[str, ...] | None
) -> None:
    names = [parts for kind, parts in forced_names(read_templates(dev.outdir)) if kind == resource_type]
    assert names, f"no forced {resource_type} name found"
    assert all(any("dsp-dev" in p or "dsp_dev" in p for p in parts) for parts in names), names
    if example is not None:
        assert example in names


def _name_the_stream(templates: Templates, name: str) -> Templates:
    """A copy of ``templates`` whose camera stream is called ``name``."""
    templates = copy.deepcopy(templates)
    (stream,) = [r for _, _, r in resources(templates) if r["Type"] == "AWS::KinesisVideo::Stream"]
    stream["Properties"]["Name"] = name
    return templates


def test_a_name_without_the_prefix_would_collide(dev: Synthesized, second_copy: Templates) -> None:
    first = forced_names(_name_the_stream(read_templates(dev.outdir), "entrance-camera"))
    second = forced_names(_name_the_stream(second_copy, "entrance-camera"))
    assert set(first) & set(second) == {("AWS::KinesisVideo::Stream", ("entrance-camera",))}
