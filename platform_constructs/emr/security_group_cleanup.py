"""Deleting EMR-managed security groups: the rules EMR added outside CloudFormation go first."""

from collections.abc import Sequence

from aws_cdk import Acknowledgment, CustomResource, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from platform_constructs.emr.roles import EMR_MANAGED_TAG
from platform_constructs.lambda_functions import custom_resource_function_with_own_role
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards

HANDLER = "workloads/emr/security_groups.py"
REVOKE_ACTIONS = ("ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress")


class SecurityGroupCleanup(Construct):
    """A custom resource whose Lambda (:mod:`workloads.emr.security_groups`), when the resource is
    deleted, revokes every rule of ``groups`` that references a security group. EMR adds such rules
    to its managed groups outside CloudFormation, and EC2 will not delete a group another group's
    rule references, so without this a stack delete ends in ``DELETE_FAILED``.

    Order on delete: the resource references the groups, so it goes before them; the rules
    CloudFormation manages on the groups (made before this construct) wait for it, so they go
    before it and only EMR's rules are left for the function; what runs in the groups (a cluster)
    must go first: call :meth:`clean_after`. One invocation suffices (a few EC2 calls, no
    waiting), so the function answers CloudFormation itself. It runs outside the VPC (it only calls
    EC2's API) and logs to an encrypted group; its role may describe security groups and revoke
    rules of the account's groups tagged :data:`EMR_MANAGED_TAG` in the region, not of ``groups``
    by ID: when the groups are replaced, CloudFormation deletes the old resource (which cleans the
    old groups) under the new policy. Exposes ``resource`` and ``function``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        groups: Sequence[ec2.ISecurityGroup],
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param groups: the EMR-managed security groups, tagged :data:`EMR_MANAGED_TAG`, with the rules
            CloudFormation manages already added.
        :param logs_key: encrypts the function's log group; must let CloudWatch Logs use it.
        :param log_retention: how long the function's logs are kept.
        :param removal_policy: of the log group; default RETAIN.
        """
        super().__init__(scope, construct_id)
        self.function, role, log_group = custom_resource_function_with_own_role(
            self,
            entry=HANDLER,
            description="Revokes EMR's rules between its groups on delete (CloudFormation custom resource)",
            role_description="Revokes the rules EMR added to its managed security groups, before they go",
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            timeout=Duration.minutes(1),
        )
        stack = Stack.of(self)
        role.add_to_principal_policy(  # takes no resource ARN
            iam.PolicyStatement(actions=["ec2:DescribeSecurityGroups"], resources=["*"])
        )
        tagged_groups = stack.format_arn(service="ec2", resource="security-group", resource_name="*")
        tag, value = EMR_MANAGED_TAG
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(REVOKE_ACTIONS),
                resources=[tagged_groups],
                conditions={"StringEquals": {f"aws:ResourceTag/{tag}": value}},
            )
        )
        acknowledge_wildcards(
            role,
            reason="DescribeSecurityGroups supports no resource-level permissions (the function reads "
            "only the groups it is given); the streams of the function's own log group; revoking "
            "rules of the EMR-tagged groups, by tag and not by ID so that the delete of a replaced "
            "clean-up resource may still clean the old groups.",
            resources=["*", log_group.log_group_arn, tagged_groups],
        )
        acknowledge_own_policy(
            role, "The function's own role: its logs and the rules of the EMR-tagged security groups."
        )
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
                reason="It calls only the EC2 API, which dev's private subnets cannot reach (no NAT, no "
                "interface endpoints); outside the VPC it puts no network interface in the VPC it cleans.",
            ),
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type="Custom::EmrSecurityGroupCleanup",
            properties={"GroupIds": [group.security_group_id for group in groups]},
        )
        for group in groups:
            for rule in group.node.children:
                if isinstance(rule, (ec2.CfnSecurityGroupIngress, ec2.CfnSecurityGroupEgress)):
                    rule.node.add_dependency(self.resource)

    def clean_after(self, *constructs: Construct) -> None:
        """Run the clean-up only once ``constructs`` (clusters in the groups) are deleted."""
        for construct in constructs:
            construct.node.add_dependency(self.resource)
