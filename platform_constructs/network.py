"""The platform's private network."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

PRIVATE_SUBNET_GROUP = "Private"
"""Name of the subnets every workload runs in (isolated, or with egress through NAT when configured)."""


@dataclass(frozen=True)
class OutsideObjects:
    """Objects in another account's buckets (AWS-owned, or a fork's) that workloads in the VPC must
    reach through the S3 gateway endpoint, and the only actions allowed on them there."""

    actions: Sequence[str]
    arns: Sequence[str]


class PlatformNetwork(Construct):
    """A VPC whose workloads reach AWS without the internet.

    Creates private isolated subnets in ``max_azs`` zones (or, with ``nat_gateways`` > 0, public
    subnets that hold only the NAT gateways plus private subnets with egress through them), an S3
    gateway endpoint, one interface endpoint per entry of ``interface_endpoints``, and flow logs of
    all traffic to a CloudWatch log group encrypted with ``flow_log_key``. Every endpoint has a
    policy: the interface endpoints serve only principals of this account; the S3 gateway serves
    them only on buckets of this account, plus ``outside_objects`` (for anyone: some of those calls
    are unsigned), so nothing in the VPC can copy data to another account's bucket. The default
    security group has every rule removed; the endpoints share one security group that admits only
    HTTPS from the VPC's range. Exposes ``vpc``, ``s3_endpoint``, ``flow_log_group`` and
    ``endpoint_security_group`` (None without interface endpoints).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        flow_log_key: kms.IKey,
        max_azs: int = 2,
        nat_gateways: int = 0,
        interface_endpoints: Mapping[str, ec2.InterfaceVpcEndpointAwsService] | None = None,
        outside_objects: Mapping[str, OutsideObjects] | None = None,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param cidr: the VPC's IPv4 range.
        :param flow_log_key: encrypts the flow log group (CloudWatch Logs must be allowed to use it).
        :param max_azs: availability zones to spread subnets over; default 2.
        :param nat_gateways: NAT gateways for outbound internet; default 0 (no internet route at all).
        :param interface_endpoints: endpoint construct ID -> AWS service; default none.
        :param outside_objects: statement ID -> objects outside this account the S3 gateway lets
            through; default none.
        :param flow_log_retention: how long flow logs are kept; default one year.
        :param removal_policy: for the flow-log group; default RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogGroup",
            encryption_key=flow_log_key,
            retention=flow_log_retention,
            removal_policy=removal_policy,
        )

        flow_log_role = iam.Role(
            self,
            "FlowLogRole",
            description="Lets VPC Flow Logs of this account write to the flow log group",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com").with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="ec2", resource="vpc-flow-log", resource_name="*"
                        )
                    },
                }
            ),
        )
        flow_log_role.add_managed_policy(
            iam.ManagedPolicy(
                self,
                "FlowLogWritePolicy",
                statements=[
                    iam.PolicyStatement(
                        actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        resources=[self.flow_log_group.log_group_arn],
                    )
                ],
            )
        )

        private_type = ec2.SubnetType.PRIVATE_WITH_EGRESS if nat_gateways else ec2.SubnetType.PRIVATE_ISOLATED
        # Private subnets share whatever the range leaves; public ones only hold NAT gateways.
        subnets = [ec2.SubnetConfiguration(name=PRIVATE_SUBNET_GROUP, subnet_type=private_type)]
        if nat_gateways:
            subnets.append(
                ec2.SubnetConfiguration(
                    name="Public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=28,
                    map_public_ip_on_launch=False,
                )
            )

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=max_azs,
            nat_gateways=nat_gateways,
            subnet_configuration=subnets,
            restrict_default_security_group=True,
            flow_logs={
                "FlowLog": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                        # Immutable: CDK would otherwise add an inline policy; the managed one above suffices.
                        self.flow_log_group,
                        flow_log_role.without_policy_updates(),
                    ),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        this_account = {"aws:PrincipalAccount": stack.account}
        # Not through the VPC's ``gateway_endpoints``, which hides the endpoint its policy goes on.
        self.s3_endpoint = self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3
        )
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="ThisAccount",
                principals=[iam.AnyPrincipal()],
                actions=["s3:*"],
                resources=["*"],
                conditions={"StringEquals": {**this_account, "aws:ResourceAccount": stack.account}},
            )
        )
        for sid, objects in (outside_objects or {}).items():
            self.s3_endpoint.add_to_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.AnyPrincipal()],
                    actions=list(objects.actions),
                    resources=list(objects.arns),
                )
            )
        for public_subnet in self.vpc.public_subnets:
            Validations.of(public_subnet).acknowledge(
                Acknowledgment(
                    id="NIST.800.53.R5::NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                    reason="Public subnets exist only when NAT is configured and hold nothing but the NAT "
                    "gateways; they never assign public IPs, workloads stay in the private subnets.",
                )
            )
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        if interface_endpoints:
            # The CIDR literal, not the VPC's CidrBlock attribute, so the checks can read the rule.
            self.endpoint_security_group = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=self.vpc,
                description="HTTPS from inside the VPC to the interface endpoints",
                allow_all_outbound=False,
            )
            self.endpoint_security_group.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from inside the VPC"
            )
            for endpoint_id, service in interface_endpoints.items():
                endpoint = self.vpc.add_interface_endpoint(
                    endpoint_id,
                    service=service,
                    private_dns_enabled=True,
                    open=False,
                    security_groups=[self.endpoint_security_group],
                )
                # Principals only: SSM's own documents and the like belong to AWS, not to this account.
                endpoint.add_to_policy(
                    iam.PolicyStatement(
                        sid="ThisAccount",
                        principals=[iam.AnyPrincipal()],
                        actions=["*"],
                        resources=["*"],
                        conditions={"StringEquals": this_account},
                    )
                )
