"""SageMaker execution roles: the lake grants of each job or model plus what every one needs."""

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from platform_constructs.keys import grant_for_aws_resources
from platform_constructs.lake_access import LakeAccessRole
from platform_constructs.sagemaker.image import FrameworkImage

VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)
"""What SageMaker does with the role to attach a job or a model to the VPC's private subnets."""
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")


def sagemaker_principal(scope: Construct) -> iam.IPrincipal:
    """SageMaker of this account only (``aws:SourceAccount``): no confused deputy."""
    return iam.ServicePrincipal("sagemaker.amazonaws.com").with_conditions(
        {"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}}
    )


def sagemaker_arn(scope: Construct, resource: str, name: str) -> str:
    """The ARN of SageMaker resource ``resource``/``name`` in ``scope``'s account and region."""
    return Stack.of(scope).format_arn(service="sagemaker", resource=resource, resource_name=name)


class SageMakerRole(LakeAccessRole):
    """A :class:`LakeAccessRole` SageMaker assumes to run a training job or host a model: it may
    pull ``image``, write the log streams matching ``log_streams`` (a log-stream ARN pattern), put
    metrics in SageMaker's namespaces and, when ``in_vpc``, manage the network interfaces that put
    the container in the VPC. Lake access is granted by the caller (``read``, ``read_write``).
    ``wildcard_resources`` lists what it holds with a ``*``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        image: FrameworkImage,
        log_streams: str,
        in_vpc: bool,
    ) -> None:
        """
        :param description: what the role runs.
        :param image: the framework image it pulls.
        :param log_streams: ARN pattern of the log streams it writes (:meth:`log_streams`).
        :param in_vpc: whether its jobs or models run in the VPC.
        """
        super().__init__(
            scope,
            construct_id,
            assumed_by=sagemaker_principal(scope),
            description=description,
        )
        image.grant_pull(self)
        log_group = log_streams.split(":log-stream:")[0]
        self.add_to_principal_policy(
            iam.PolicyStatement(actions=list(LOG_ACTIONS), resources=[log_group, log_streams])
        )
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
            )
        )
        self.wildcard_resources += ["*", log_streams]
        if in_vpc:
            self.add_to_principal_policy(iam.PolicyStatement(actions=list(VPC_ACTIONS), resources=["*"]))

    @staticmethod
    def log_streams(scope: Construct, group: str, streams: str) -> str:
        """The ARN pattern of the streams ``streams`` of log group ``group`` in this account and region."""
        return Stack.of(scope).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{group}:log-stream:{streams}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )


def job_role(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    image: FrameworkImage,
    log_group: str,
    job_prefix: str,
    source: s3_assets.Asset,
    key: kms.IKey,
) -> SageMakerRole:
    """The execution role of the SageMaker jobs named ``<job_prefix>-*`` (training or processing,
    ``log_group`` says which) in the VPC: their log streams, their ``source`` asset (an ``S3Prefix``
    input lists before it reads), and ``key`` for their volumes and output (grants for AWS resources,
    and ``kms:Encrypt``, which SageMaker asks of the role that writes the output). Lake access is
    the caller's."""
    role = SageMakerRole(
        scope,
        construct_id,
        description=description,
        image=image,
        log_streams=SageMakerRole.log_streams(scope, log_group, f"{job_prefix}-*"),
        in_vpc=True,
    )
    role.read_asset(source, listed=True)
    grant_for_aws_resources(key, role)
    key.grant(role, "kms:Encrypt")
    return role


def sync_job_statements(
    scope: Construct, kind: str, job_prefix: str, role: iam.IRole
) -> list[iam.PolicyStatement]:
    """What a state machine's ``sagemaker:create<kind>Job.sync`` task needs (``kind``: ``Training``
    or ``Processing``): creating, watching and stopping the jobs named ``<job_prefix>-*`` and tagging
    them, reading tags (the integration does), passing ``role`` to SageMaker only, and the managed
    EventBridge rule Step Functions watches such jobs with."""
    jobs = sagemaker_arn(scope, f"{kind.lower()}-job", f"{job_prefix}-*")
    rule = Stack.of(scope).format_arn(
        service="events", resource="rule", resource_name=f"StepFunctionsGetEventsForSageMaker{kind}JobsRule"
    )
    return [
        iam.PolicyStatement(
            actions=[f"sagemaker:{verb}{kind}Job" for verb in ("Create", "Describe", "Stop")],
            resources=[jobs],
        ),
        iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[jobs]),
        iam.PolicyStatement(actions=["sagemaker:ListTags"], resources=["*"]),
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
        iam.PolicyStatement(
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"], resources=[rule]
        ),
    ]
