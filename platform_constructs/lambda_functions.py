"""The platform's Python Lambda functions: one runtime, and the function behind a custom resource."""

from typing import Any

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from platform_constructs.python_modules import entry_modules, stage_modules

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
VPC_ACCESS_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
"""What Lambda needs of a function's role to attach the function to a VPC: the EC2 actions of the
managed policy AWSLambdaVPCAccessExecutionRole (v3). They take no resource ARN (``*``)."""


def custom_resource_function(
    scope: Construct,
    construct_id: str,
    *,
    entry: str,
    description: str,
    role: iam.IRole,
    log_group: logs.ILogGroup,
    timeout: Duration,
    handler: str = "handler",
    **options: Any,
) -> lambda_.Function:
    """A Python function (:data:`RUNTIME`, arm64) running ``handler`` of ``entry`` (a module path
    such as ``workloads/emr/certificates.py``), shipped with the ``workloads`` modules it imports;
    ``options`` are further :class:`aws_lambda.Function` props (layers, VPC, memory). Acknowledges
    what every such function shares: no dead-letter queue and no reserved concurrency, because only
    CloudFormation invokes it, once per change, and waits for its answer."""
    function = lambda_.Function(
        scope,
        construct_id,
        description=description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=f"{entry.removesuffix('.py').replace('/', '.')}.{handler}",
        code=lambda_.Code.from_asset(str(stage_modules(entry_modules(entry)))),
        timeout=timeout,
        role=role,
        log_group=log_group,
        **options,
    )
    acknowledge_custom_resource_function(function)
    return function


def acknowledge_custom_resource_function(function: IConstruct, *more: Acknowledgment) -> None:
    """Acknowledge on ``function`` what a function that only CloudFormation invokes lacks (a
    dead-letter queue, reserved concurrency), and ``more``."""
    Validations.of(function).acknowledge(
        Acknowledgment(
            id="NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
            reason="Only CloudFormation invokes it, synchronously, and waits for its answer; "
            "a failure fails the deployment, so there is no lost event to queue.",
        ),
        Acknowledgment(
            id="NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
            reason="Only CloudFormation invokes it, once per change of the resource; reserving "
            "concurrency would fail deployment in accounts at the minimum concurrency quota.",
        ),
        *more,
    )


def custom_resource_function_with_own_role(
    scope: Construct,
    *,
    entry: str,
    description: str,
    role_description: str,
    logs_key: kms.IKey,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
    timeout: Duration,
    **options: Any,
) -> tuple[lambda_.Function, iam.Role, logs.LogGroup]:
    """A :func:`custom_resource_function` ``Function`` in ``scope`` with a role of its own
    (``Role``, trusting Lambda, described by ``role_description``) that may write to its own log
    group (``Logs``, encrypted with ``logs_key``, kept ``log_retention``, removed by
    ``removal_policy``); the function, the role and the log group."""
    log_group = logs.LogGroup(
        scope, "Logs", encryption_key=logs_key, retention=log_retention, removal_policy=removal_policy
    )
    role = iam.Role(
        scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=role_description
    )
    function = custom_resource_function(
        scope,
        "Function",
        entry=entry,
        description=description,
        role=role,
        log_group=log_group,
        timeout=timeout,
        **options,
    )
    log_group.grant_write(role)
    return function, role, log_group
