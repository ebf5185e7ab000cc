"""Reading synthesized templates: every stack of a cloud assembly, resource schemas, property paths.

Shared by the replacement gate, the cost table and the generated architecture docs, which all work
on what `cdk synth` wrote, never on the CDK app itself.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

Templates = dict[str, dict[str, Any]]
"""Stack name -> its CloudFormation template."""

SCHEMA_REGION = "us-east-1"
"""The region whose resource schemas (shipped with cfn-lint) describe every resource type."""

MISSING = object()
"""What :func:`at_path` returns when a template does not set the property."""


def stack_artifacts(assembly: Path) -> dict[str, dict[str, Any]]:
    """Artifact ID -> manifest entry of every stack in the cloud assembly, sorted by ID."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    return {
        artifact_id: artifact
        for artifact_id, artifact in sorted(manifest["artifacts"].items())
        if artifact["type"] == "aws:cloudformation:stack"
    }


def _stack_name(artifact_id: str, artifact: dict[str, Any]) -> str:
    return str(artifact["properties"].get("stackName", artifact_id))


def read_templates(assembly: Path) -> Templates:
    """Stack name -> template of every stack in the cloud assembly at ``assembly``."""
    return {
        _stack_name(artifact_id, artifact): json.loads(
            (assembly / artifact["properties"]["templateFile"]).read_text()
        )
        for artifact_id, artifact in stack_artifacts(assembly).items()
    }


def read_dependencies(assembly: Path) -> dict[str, list[str]]:
    """Stack name -> names of the stacks it is deployed after (the manifest's dependencies)."""
    stacks = stack_artifacts(assembly)
    return {
        _stack_name(artifact_id, artifact): sorted(
            _stack_name(other, stacks[other]) for other in artifact.get("dependencies", ()) if other in stacks
        )
        for artifact_id, artifact in stacks.items()
    }


@contextmanager
def synthesized(environment: str) -> Iterator[Path]:
    """The cloud assembly of ``environment``, synthesized with every check into a temporary folder
    that lasts for the block."""
    from app import create_app  # the app's modules load only when a synth is asked for
    from config.settings import load_settings

    with tempfile.TemporaryDirectory() as outdir:
        app, _ = create_app(load_settings(environment), outdir=outdir)
        app.synth()
        yield Path(outdir)


@cache
def create_only_properties(resource_type: str) -> tuple[str, ...]:
    """Property paths (``/properties/A/B``) of ``resource_type`` that CloudFormation can change only
    by replacing the resource, from its resource schema; none for custom resources."""
    if not resource_type.startswith("AWS::"):
        return ()
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
    return tuple(sorted(schema.get("createOnlyProperties", ())))


def at_path(properties: dict[str, Any], path: str) -> Any:
    """The value at a schema path (``/properties/A/B``) of a resource's ``properties``, or
    :data:`MISSING`."""
    value: Any = properties
    for part in path.split("/")[2:]:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def resources(templates: Templates) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(stack name, logical ID, resource) of every resource of every template."""
    for stack, template in templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            yield stack, logical_id, resource
