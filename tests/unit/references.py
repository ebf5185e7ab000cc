"""Following references in synthesized templates, across stacks, to the resources they name."""

from __future__ import annotations

from typing import Any

from tests.conftest import Synthesized


def referenced(env: Synthesized, stack: str, value: Any) -> tuple[str, str] | None:
    """(stack ID, logical ID) of the resource ``value`` (a ``Ref``, ``Fn::GetAtt`` or another
    stack's output read with ``Fn::GetStackOutput``) points to; None for anything else."""
    if not isinstance(value, dict):
        return None
    if "Ref" in value:
        return stack, value["Ref"]
    if "Fn::GetAtt" in value:
        return stack, value["Fn::GetAtt"][0]
    if "Fn::GetStackOutput" in value:
        return referenced(env, *stack_output(env, value))
    return None


def stack_output(env: Synthesized, value: dict[str, Any]) -> tuple[str, Any]:
    """(stack ID, template value) of the other stack's output an ``Fn::GetStackOutput`` reads."""
    output = value["Fn::GetStackOutput"]
    (producer,) = [s.id for s in env.assembly.stacks if s.stack_name == output["StackName"]]
    return producer, env.raw(producer)["Outputs"][output["OutputName"]]["Value"]


def resource_type(env: Synthesized, target: tuple[str, str] | None) -> str | None:
    """The CloudFormation type of a resource :func:`referenced` found."""
    if target is None:
        return None
    stack, logical_id = target
    resource = env.raw(stack)["Resources"].get(logical_id)
    return None if resource is None else resource["Type"]  # type: ignore[no-any-return]


def alarm_topic(env: Synthesized) -> tuple[str, str]:
    """(stack ID, logical ID) of the platform alarm topic."""
    (logical_id,) = env.resources("Alarms", "AWS::SNS::Topic")
    return "Alarms", logical_id


def operations_key(env: Synthesized) -> tuple[str, str]:
    """(stack ID, logical ID) of the platform's operations key (log groups and the alarm topic)."""
    (logical_id,) = env.resources("Alarms", "AWS::KMS::Key")
    return "Alarms", logical_id


def lake_key(env: Synthesized) -> tuple[str, str]:
    """(stack ID, logical ID) of the lake key."""
    (logical_id,) = env.resources("DataLake", "AWS::KMS::Key")
    return "DataLake", logical_id
