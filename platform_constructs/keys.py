"""The platform's KMS keys and the key policy statements they share."""

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def rotating_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    removal_policy: RemovalPolicy,
    alias: str | None = None,
) -> kms.Key:
    """A customer-managed key with yearly rotation; on removal it waits 30 days before deletion,
    7 where the environment allows destroying data."""
    return kms.Key(
        scope,
        construct_id,
        alias=alias,
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy,
        pending_window=Duration.days(7 if removal_policy == RemovalPolicy.DESTROY else 30),
    )


def logs_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    removal_policy: RemovalPolicy,
    alias: str | None = None,
) -> kms.Key:
    """A :func:`rotating_key` (with ``alias``, if given) that CloudWatch Logs of this account and
    region may use for this account's log groups only: the encryption context names the log group,
    so the condition holds for every call the service makes."""
    key = rotating_key(
        scope, construct_id, description=description, removal_policy=removal_policy, alias=alias
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
