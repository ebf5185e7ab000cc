"""NetworkStack: the private network every workload of the platform runs in."""

from aws_cdk import Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from config.settings import Settings
from platform_constructs.emr.roles import EMR_MANAGED_TAG
from platform_constructs.log_retention import RETENTION_BY_DAYS
from platform_constructs.network import PRIVATE_SUBNET_GROUP, PlatformNetwork
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


def interface_endpoints(settings: Settings) -> dict[str, ec2.InterfaceVpcEndpointAwsService]:
    """The interface endpoints the enabled services need."""
    endpoints = dict(SHARED_ENDPOINTS)
    for service, service_endpoints in SERVICE_ENDPOINTS.items():
        if getattr(settings, service).enabled:
            endpoints.update(service_endpoints)
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
            flow_log_retention=RETENTION_BY_DAYS[net.flow_log_retention_days],
            removal_policy=data_removal_policy(self, destroy=settings.destroy_on_delete),
        )
        if settings.emr.enabled:  # EMR's managed service policy only uses subnets tagged for it
            for subnet in self.network.vpc.select_subnets(subnet_group_name=PRIVATE_SUBNET_GROUP).subnets:
                Tags.of(subnet).add(*EMR_MANAGED_TAG)
