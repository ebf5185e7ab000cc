"""NetworkStack: the private network every workload of the platform runs in."""

from aws_cdk import Aws, Fn, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from config.settings import Settings
from platform_constructs.emr.roles import EMR_MANAGED_TAG
from platform_constructs.log_retention import RETENTION_BY_DAYS
from platform_constructs.network import PRIVATE_SUBNET_GROUP, OutsideObjects, PlatformNetwork
from platform_constructs.removal import data_removal_policy
from stacks.base import PlatformStack

Service = ec2.InterfaceVpcEndpointAwsService

SHARED_ENDPOINTS = {
    "StsEndpoint": Service.STS,
    "LogsEndpoint": Service.CLOUDWATCH_LOGS,
    "KmsEndpoint": Service.KMS,
    "AthenaEndpoint": Service.ATHENA,
}
"""Endpoints every workload needs: credentials, logging, the lake key, lake queries."""

SERVICE_ENDPOINTS: dict[str, dict[str, ec2.InterfaceVpcEndpointAwsService]] = {
    "glue": {"GlueEndpoint": Service.GLUE},
    "emr": {
        "EmrEndpoint": Service.EMR,
        "GlueEndpoint": Service.GLUE,  # the metastore
        "SsmEndpoint": Service.SSM,  # Session Manager: the only way onto a node
        "SsmMessagesEndpoint": Service.SSM_MESSAGES,
        "Ec2MessagesEndpoint": Service.EC2_MESSAGES,
    },
    "sagemaker": {
        "SageMakerApiEndpoint": Service.SAGEMAKER_API,
        "SageMakerRuntimeEndpoint": Service.SAGEMAKER_RUNTIME,
    },
}
"""Endpoints of the services that run inside the VPC, by settings section."""


GET = ("s3:GetObject",)
AWS_OWNED_OBJECTS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "shared": {
        # Image layers of any container pulled from inside the VPC (through NAT or a fork's ECR endpoints):
        # https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html#ecr-minimum-s3-perms
        "EcrImageLayers": (GET, ("prod-{region}-starport-layer-bucket",)),
    },
    "emr": {
        # https://docs.aws.amazon.com/emr/latest/ManagementGuide/private-subnet-iampolicy.html
        # (emr-7.x runs Amazon Linux 2023; config allows no other major release)
        "EmrRepositories": (GET, ("al2023-repos-{region}-de612dc2", "repo.{region}.emr.amazonaws.com")),
        "EmrSystemLogs": (("s3:Put*",), ("aws157-logs-prod-{region}", "aws157-logs-prod")),
        "EmrApplicationHistory": (
            ("s3:Put*", "s3:Get*", "s3:Abort*", "s3:List*"),  # the docs' s3:Create* names no object action
            ("prod.{region}.appinfo.src",),
        ),
        # The certificate function answers CloudFormation at a presigned URL in these buckets:
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-vpce-bucketnames.html
        "CloudFormationResponses": (
            ("s3:PutObject",),
            ("cloudformation-custom-resource-response-{region_nodash}",),
        ),
    },
}
"""Statement ID -> (actions, bucket names) of the AWS-owned objects workloads in the VPC reach, by
settings section ("shared": always). aws157-logs-prod is us-east-1's name (a gateway endpoint only
reaches buckets of its own region). SageMaker documents none: jobs and models read the lake and
the artifacts bucket, and SageMaker pulls their images outside the VPC."""


def outside_objects(settings: Settings) -> dict[str, OutsideObjects]:
    """The objects outside this account that the enabled services reach through the S3 gateway:
    :data:`AWS_OWNED_OBJECTS` in this region, and a fork's own EMR certificate zip."""
    region = {"region": Aws.REGION, "region_nodash": Fn.join("", Fn.split("-", Aws.REGION))}
    sections = [
        "shared",
        *(name for name in AWS_OWNED_OBJECTS if name != "shared" and getattr(settings, name).enabled),
    ]
    objects = {
        sid: OutsideObjects(
            actions, [f"arn:{Aws.PARTITION}:s3:::{bucket.format(**region)}/*" for bucket in buckets]
        )
        for section in sections
        for sid, (actions, buckets) in AWS_OWNED_OBJECTS[section].items()
    }
    if settings.emr.enabled and settings.emr.certificates_zip is not None:
        zip_key = settings.emr.certificates_zip.removeprefix("s3://")
        objects["EmrCertificates"] = OutsideObjects(GET, [f"arn:{Aws.PARTITION}:s3:::{zip_key}"])
    return objects


STUDIO_ENDPOINTS = {"StepFunctionsEndpoint": Service.STEP_FUNCTIONS}
"""What a VpcOnly Studio adds to SageMaker's: its notebooks start and follow the training state
machine. (Studio's own ``aws.sagemaker.<region>.studio`` endpoint serves browsers inside the VPC;
users open Studio from outside it with a presigned URL.)"""


def interface_endpoints(settings: Settings) -> dict[str, ec2.InterfaceVpcEndpointAwsService]:
    """The interface endpoints the enabled services need."""
    endpoints = dict(SHARED_ENDPOINTS)
    for service, service_endpoints in SERVICE_ENDPOINTS.items():
        if getattr(settings, service).enabled:
            endpoints.update(service_endpoints)
    if settings.sagemaker.enabled and settings.sagemaker.studio.enabled:
        endpoints.update(STUDIO_ENDPOINTS)
    return endpoints


class NetworkStack(PlatformStack):
    """The platform's VPC (:class:`PlatformNetwork`) sized by the ``network`` settings, with the
    interface endpoints of the enabled services when ``network.interface_endpoints`` is on; with
    EMR enabled, the private subnets carry the tag EMR's managed service policy requires.
    Exposes ``network``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, logs_key: kms.IKey
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix="network",
            description="Data science platform: VPC, endpoints, flow logs",
        )
        net = settings.network
        self.network = PlatformNetwork(
            self,
            "Network",
            cidr=net.vpc_cidr,
            flow_log_key=logs_key,
            max_azs=net.max_azs,
            nat_gateways=net.nat_gateways,
            interface_endpoints=interface_endpoints(settings) if net.interface_endpoints else None,
            outside_objects=outside_objects(settings),
            flow_log_retention=RETENTION_BY_DAYS[net.flow_log_retention_days],
            removal_policy=data_removal_policy(self, destroy=settings.destroy_on_delete),
        )
        if settings.emr.enabled:  # EMR's managed service policy only uses subnets tagged for it
            for subnet in self.network.vpc.select_subnets(subnet_group_name=PRIVATE_SUBNET_GROUP).subnets:
                Tags.of(subnet).add(*EMR_MANAGED_TAG)
