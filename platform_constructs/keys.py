"""The platform's KMS keys and the key policy statements they share."""

from collections.abc import Sequence

from aws_cdk import ArnFormat, DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

RESERVED_ACTIONS = ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy")
"""What only the key administrators and the deploying CloudFormation role may do to a platform key."""


def rotating_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    removal_policy: RemovalPolicy,
    admins: Sequence[str],
    alias: str | None = None,
) -> kms.Key:
    """A customer-managed key with yearly rotation; on removal it waits 30 days before deletion,
    7 where the environment allows destroying data. The account keeps IAM-based use (grants), the
    role ARNs in ``admins`` administer it, and :data:`RESERVED_ACTIONS` are denied to everyone but
    them and the CDK bootstrap's CloudFormation execution role (see :func:`_reserve_administration`)."""
    key = kms.Key(
        scope,
        construct_id,
        alias=alias,
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy,
        pending_window=Duration.days(7 if removal_policy == RemovalPolicy.DESTROY else 30),
    )
    _reserve_administration(key, admins)
    return key


def _reserve_administration(key: kms.Key, admins: Sequence[str]) -> None:
    """Make each role in ``admins`` an administrator of ``key`` and deny :data:`RESERVED_ACTIONS`
    to every other principal, whatever its IAM policies allow. The deploying CloudFormation
    execution role stays exempt, or the next deploy could not update the key policy (and KMS
    would refuse the policy under its lockout safety check). The exemption names principals by
    ``aws:PrincipalArn``, so a deleted admin role is restored by re-creating it under its name."""
    synthesizer = Stack.of(key).synthesizer
    if not isinstance(synthesizer, DefaultStackSynthesizer):
        raise TypeError(
            "platform keys exempt the CDK bootstrap's CloudFormation execution role: "
            "deploy with the DefaultStackSynthesizer"
        )
    deployer = synthesizer.cloud_formation_execution_role_arn
    for admin in admins:
        key.grant_admin(iam.ArnPrincipal(admin))
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyKeyDeletionAndPolicyChangesToOthers",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=list(RESERVED_ACTIONS),
            resources=["*"],
            conditions={
                "ArnNotLike": {
                    "aws:PrincipalArn": [*admins, Fn.sub(deployer) if "${" in deployer else deployer]
                }
            },
        )
    )


def logs_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    removal_policy: RemovalPolicy,
    admins: Sequence[str],
    alias: str | None = None,
) -> kms.Key:
    """A :func:`rotating_key` (with ``admins`` and ``alias``) that CloudWatch Logs of this account and
    region may use for this account's log groups only: the encryption context names the log group,
    so the condition holds for every call the service makes."""
    key = rotating_key(
        scope,
        construct_id,
        description=description,
        removal_policy=removal_policy,
        admins=admins,
        alias=alias,
    )
    stack = Stack.of(scope)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccountAndRegion",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    return key


def grant_for_aws_resources(key: kms.IKey, role: iam.IRole) -> None:
    """Let ``role`` describe ``key`` and create grants on it for AWS resources only: what SageMaker
    needs from whoever names the key for a job's volumes and output or an endpoint's storage (the
    grant condition applies to ``CreateGrant`` alone, so ``DescribeKey`` has a statement of its own)."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:CreateGrant"],
            resources=[key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
    )
    role.add_to_principal_policy(iam.PolicyStatement(actions=["kms:DescribeKey"], resources=[key.key_arn]))
