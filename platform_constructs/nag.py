"""cdk-nag acknowledgements of IAM wildcard resources, including resources of other stacks.

cdk-nag 3 names every wildcard of a policy in its own finding, ``AwsSolutions-IAM5[Resource::<the
resource, flattened>]``, and only an acknowledgement with exactly that id covers it. A resource
of another stack (a lake bucket's ARN) is only rendered, as ``Fn::GetStackOutput``, once CDK
resolves cross-stack references during synthesis. So the ids are computed then, from the
resources the caller names, in a construct validation (which CDK runs after references are
resolved and before the cdk-nag plugins); a wildcard nobody named stays a finding and fails synth.
"""

import json
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IValidation

WILDCARD_RULE = "AwsSolutions::AwsSolutions-IAM5"


def flatten_reference(node: Any) -> str:
    """A resolved resource as cdk-nag writes it into a finding id: ``Ref`` and ``Fn::GetAtt`` in
    angle brackets, ``Fn::Join`` joined, ``${X}`` as ``<X>``, anything else as compact JSON."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Fn::Join":
            delimiter, items = argument
            return str(delimiter).join(flatten_reference(item) for item in items)
        if function in ("Fn::Sub", "Fn::ImportValue"):
            return flatten_reference(argument)
        if function == "Fn::GetAtt":
            resource, attribute = argument
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if function == "Ref":
            return f"<{flatten_reference(argument)}>"
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


@jsii.implements(IValidation)
class _WildcardAcknowledgement:
    """Acknowledges the named wildcards on ``policy`` once references are resolved."""

    def __init__(self, policy: CfnResource, reason: str, resources: Sequence[str]) -> None:
        self._policy, self._reason, self._resources = policy, reason, list(resources)

    def validate(self) -> list[str]:
        stack = Stack.of(self._policy)
        Validations.of(self._policy).acknowledge(
            *(
                Acknowledgment(
                    id=f"{WILDCARD_RULE}[Resource::{flatten_reference(stack.resolve(resource))}]",
                    reason=self._reason,
                )
                for resource in self._resources
            )
        )
        return []


def _default_policy(role: iam.Role) -> CfnResource:
    """The ``AWS::IAM::Policy`` CDK writes a role's grants into."""
    policy = role.node.find_child("DefaultPolicy").node.default_child
    assert isinstance(policy, CfnResource), "the role has no default policy yet: grant first"
    return policy


def acknowledge_wildcards(role: iam.Role, *, reason: str, resources: Sequence[str]) -> None:
    """Acknowledge, on ``role``'s default policy only, exactly the wildcard ``resources`` (tokens
    allowed, e.g. ``bucket.arn_for_objects("*")``) with ``reason``. Any other wildcard in the
    policy, and every wildcard action, remains a finding."""
    policy = _default_policy(role)
    policy.node.add_validation(_WildcardAcknowledgement(policy, reason, resources))


def acknowledge_own_policy(role: iam.Role, reason: str) -> None:
    """Acknowledge NIST's no-inline-policy rule on ``role``'s default policy: ``reason`` says why
    the role's own grants belong inline (they are scoped to it and attached to nothing else)."""
    Validations.of(_default_policy(role)).acknowledge(
        Acknowledgment(id="NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy", reason=reason)
    )
