"""The platform as a Mermaid diagram, drawn from synthesized templates (never by hand).

A box per stack with its main resources (by kind and count), and an arrow from each stack to every
stack that uses its resources: labelled with the kinds of resource where the use is a cross-stack
reference (``Fn::GetStackOutput``), "by name" where the stack only names them (a deploy-order
dependency, such as the pipeline starting another stack's state machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scripts.templates import Templates

MAIN_RESOURCES = {
    "AWS::EC2::VPC": "VPC",
    "AWS::EC2::VPCEndpoint": "VPC endpoint",
    "AWS::EC2::NatGateway": "NAT gateway",
    "AWS::KMS::Key": "KMS key",
    "AWS::SNS::Topic": "SNS topic",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::Glue::Database": "Glue database",
    "AWS::Glue::Table": "Glue table",
    "AWS::Athena::WorkGroup": "Athena workgroup",
    "AWS::Glue::Crawler": "Glue crawler",
    "AWS::Glue::Job": "Glue job",
    "AWS::Glue::DataQualityRuleset": "DQ ruleset",
    "AWS::Glue::Workflow": "Glue workflow",
    "AWS::EMR::SecurityConfiguration": "EMR security configuration",
    "AWS::EMR::Cluster": "EMR cluster",
    "AWS::StepFunctions::StateMachine": "state machine",
    "AWS::SageMaker::ModelPackageGroup": "model package group",
    "Custom::SageMakerEndpoint": "SageMaker endpoint",
    "AWS::KinesisVideo::Stream": "Kinesis Video stream",
    "AWS::Lambda::Function": "Lambda function",
    "AWS::QuickSight::DataSource": "QuickSight data source",
    "AWS::QuickSight::DataSet": "SPICE dataset",
    "AWS::QuickSight::Dashboard": "QuickSight dashboard",
    "AWS::Scheduler::Schedule": "schedule",
    "AWS::CloudWatch::Dashboard": "CloudWatch dashboard",
    "AWS::Budgets::Budget": "budget",
}
"""Resource types worth a line in the diagram, and what to call them."""


def _node(stack: str) -> str:
    return stack.replace("-", "_")


def _cross_stack(value: Any) -> Iterator[tuple[str, str]]:
    """(producer stack, output name) of every cross-stack reference inside ``value``."""
    if isinstance(value, dict):
        if "Fn::GetStackOutput" in value:
            reference = value["Fn::GetStackOutput"]
            yield reference["StackName"], reference["OutputName"]
            return
        for item in value.values():
            yield from _cross_stack(item)
    elif isinstance(value, list):
        for item in value:
            yield from _cross_stack(item)


def _referenced_kind(template: dict[str, Any], output: str) -> str:
    """What kind of resource an output of ``template`` names."""
    value = template["Outputs"][output]["Value"]
    logical_id = value.get("Ref") or value.get("Fn::GetAtt", [None])[0]
    resource_type = template["Resources"].get(logical_id, {}).get("Type", "")
    return MAIN_RESOURCES.get(resource_type, resource_type.split("::")[-1] or "value")


def mermaid(templates: Templates, dependencies: dict[str, list[str]]) -> str:
    """A Mermaid flowchart of ``templates``' stacks, their main resources and their uses of each
    other (``dependencies``: stack name -> the stacks it is deployed after)."""
    lines = ["flowchart LR"]
    for stack, template in templates.items():
        types = [resource["Type"] for resource in template.get("Resources", {}).values()]
        counts = {label: types.count(kind) for kind, label in MAIN_RESOURCES.items() if kind in types}
        contents = "<br/>".join(f"{n} x {label}" if n > 1 else label for label, n in counts.items())
        lines.append(f'  {_node(stack)}["<b>{stack}</b><br/>{contents}"]')
    uses: dict[tuple[str, str], set[str]] = {}
    for consumer, template in templates.items():
        for producer, output in _cross_stack(template.get("Resources", {})):
            uses.setdefault((producer, consumer), set()).add(_referenced_kind(templates[producer], output))
        for producer in dependencies.get(consumer, ()):
            if (producer, consumer) not in uses:
                uses[producer, consumer] = {"by name"}
    for (producer, consumer), kinds in sorted(uses.items()):
        lines.append(f'  {_node(producer)} -- "{", ".join(sorted(kinds))}" --> {_node(consumer)}')
    return "\n".join(lines)
