"""NetworkStack: private subnets, endpoints, encrypted flow logs, closed default security group."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template

from app import add_checks, feature_flags
from config.settings import Settings, load_settings
from stacks.alarms_stack import AlarmsStack
from stacks.network_stack import NetworkStack, interface_endpoints, outside_objects
from tests.conftest import Synthesized
from tests.unit.references import operations_key, referenced

STACK = "Network"
VPC = "NetworkVpc7FB7348F"
FLOW_LOG_GROUP = "NetworkFlowLogGroup4F8CEEEF"
S3_ENDPOINT = "NetworkVpcS3Endpoint87783328"
REGION = "eu-west-1"
PSEUDO = {"AWS::Region": REGION, "AWS::Partition": "aws", "AWS::AccountId": "123456789012"}
ANYONE = {"AWS": "*"}
THIS_ACCOUNT = {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}
SHARED_OBJECTS = {
    # Image layers of containers pulled in the VPC:
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html#ecr-minimum-s3-perms
    "EcrImageLayers": (["s3:GetObject"], ["arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"]),
}
EMR_OBJECTS = {
    # EMR 7.x (Amazon Linux 2023) in private subnets, with logging and persistent application UIs:
    # https://docs.aws.amazon.com/emr/latest/ManagementGuide/private-subnet-iampolicy.html
    "EmrRepositories": (
        ["s3:GetObject"],
        ["arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/*", "arn:aws:s3:::repo.eu-west-1.emr.amazonaws.com/*"],
    ),
    "EmrSystemLogs": (
        ["s3:Put*"],
        ["arn:aws:s3:::aws157-logs-prod-eu-west-1/*", "arn:aws:s3:::aws157-logs-prod/*"],
    ),
    "EmrApplicationHistory": (
        ["s3:Abort*", "s3:Get*", "s3:List*", "s3:Put*"],
        ["arn:aws:s3:::prod.eu-west-1.appinfo.src/*"],
    ),
    # The certificate function's answer to CloudFormation (region without dashes):
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-vpce-bucketnames.html
    "CloudFormationResponses": (
        ["s3:PutObject"],
        ["arn:aws:s3:::cloudformation-custom-resource-response-euwest1/*"],
    ),
}
"""The AWS-owned objects the S3 gateway lets through, by statement ID, rendered for eu-west-1."""


def test_stateful_logical_ids_are_pinned(env: Synthesized) -> None:
    assert {VPC, FLOW_LOG_GROUP} <= set(env.raw(STACK)["Resources"])


def test_vpc_uses_configured_cidr_and_only_private_isolated_subnets(env: Synthesized) -> None:
    network = env.settings.network
    env.template(STACK).has_resource_properties("AWS::EC2::VPC", {"CidrBlock": network.vpc_cidr})
    subnets = env.resources(STACK, "AWS::EC2::Subnet")
    assert len(subnets) == network.max_azs
    assert all(subnet["Properties"]["MapPublicIpOnLaunch"] is False for subnet in subnets.values())
    for resource_type in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Route"):
        env.template(STACK).resource_count_is(resource_type, 0)


def test_s3_gateway_endpoint_serves_every_route_table(env: Synthesized) -> None:
    route_tables = [{"Ref": logical_id} for logical_id in env.resources(STACK, "AWS::EC2::RouteTable")]
    env.template(STACK).has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Gateway",
            "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]},
            "RouteTableIds": Match.array_equals(route_tables),
        },
    )


def _render(value: Any) -> Any:
    """A template value (``Ref`` of a pseudo parameter, ``Fn::Join``, ``Fn::Split``) as it resolves in
    :data:`PSEUDO`'s account and region."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_render(item) for item in value]
    ((function, argument),) = value.items()
    if function == "Ref":
        return PSEUDO[argument]
    separator, inner = argument
    return _render(inner).split(separator) if function == "Fn::Split" else separator.join(_render(inner))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_endpoint_has_a_policy_that_names_this_account_or_aws_owned_objects(env: Synthesized) -> None:
    endpoints = env.resources(STACK, "AWS::EC2::VPCEndpoint")
    assert S3_ENDPOINT in endpoints
    owned = {arn for _, arns in {**SHARED_OBJECTS, **EMR_OBJECTS}.values() for arn in arns}
    for logical_id, endpoint in endpoints.items():
        assert "PolicyDocument" in endpoint["Properties"], f"{logical_id} allows anyone anything"
        for statement in endpoint["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow" and "NotAction" not in statement
            resources = {_render(resource) for resource in _as_list(statement["Resource"])}
            on_this_account = (
                statement.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalAccount")
            )
            assert on_this_account == {"Ref": "AWS::AccountId"} or resources <= owned, (logical_id, statement)


def test_s3_gateway_serves_this_account_on_its_buckets_and_the_aws_owned_objects_of_its_services(
    env: Synthesized,
) -> None:
    this_account, *others = env.properties(STACK, S3_ENDPOINT)["PolicyDocument"]["Statement"]
    assert this_account == {
        "Sid": "ThisAccount",
        "Effect": "Allow",
        "Principal": ANYONE,
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"StringEquals": {**THIS_ACCOUNT, "aws:ResourceAccount": {"Ref": "AWS::AccountId"}}},
    }
    # Unconditioned: EMR's repository and log calls are unsigned, ECR's and CloudFormation's URLs
    # are signed by AWS accounts.
    assert all(set(statement) == {"Sid", "Effect", "Principal", "Action", "Resource"} for statement in others)
    assert all(statement["Principal"] == ANYONE for statement in others)
    assert {
        statement["Sid"]: (_as_list(statement["Action"]), _render(_as_list(statement["Resource"])))
        for statement in others
    } == {**SHARED_OBJECTS, **(EMR_OBJECTS if env.settings.emr.enabled else {})}


def test_interface_endpoints_serve_only_principals_of_this_account(prod: Synthesized) -> None:
    endpoints = [
        r["Properties"]
        for r in prod.resources(STACK, "AWS::EC2::VPCEndpoint").values()
        if r["Properties"]["VpcEndpointType"] == "Interface"
    ]
    assert endpoints
    for endpoint in endpoints:
        assert endpoint["PolicyDocument"]["Statement"] == [
            {
                "Sid": "ThisAccount",
                "Effect": "Allow",
                "Principal": ANYONE,
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": THIS_ACCOUNT},
            }
        ]


def test_outside_objects_follow_the_emr_switch_and_a_forks_certificates() -> None:
    dev = load_settings("dev")
    emr_off = dev.model_copy(update={"emr": dev.emr.model_copy(update={"enabled": False})})
    assert sorted(outside_objects(emr_off)) == sorted(SHARED_OBJECTS)
    zip_uri = "s3://fork-pki/emr/certs.zip"
    own_pki = dev.model_copy(update={"emr": dev.emr.model_copy(update={"certificates_zip": zip_uri})})
    certificates = outside_objects(own_pki)["EmrCertificates"]
    assert list(certificates.actions) == ["s3:GetObject"]
    assert _render(Stack().resolve(list(certificates.arns))) == ["arn:aws:s3:::fork-pki/emr/certs.zip"]


def test_flow_logs_capture_all_traffic_to_an_encrypted_group_with_retention(env: Synthesized) -> None:
    template = env.template(STACK)
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {
            "ResourceId": {"Ref": VPC},
            "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": {"Ref": FLOW_LOG_GROUP},
        },
    )
    group = env.resources(STACK, "AWS::Logs::LogGroup")[FLOW_LOG_GROUP]["Properties"]
    assert referenced(env, STACK, group["KmsKeyId"]) == operations_key(env)
    assert group["RetentionInDays"] == env.settings.network.flow_log_retention_days
    env.template(STACK).resource_count_is("AWS::KMS::Key", 0)  # no key of its own: 1 USD a month each


def test_flow_log_role_is_confined_to_this_account_and_its_log_group(env: Synthesized) -> None:
    template = env.template(STACK)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Condition": Match.object_like(
                                {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
                            ),
                        }
                    )
                ]
            }
        },
    )
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                        "Resource": {"Fn::GetAtt": [FLOW_LOG_GROUP, "Arn"]},
                    }
                ]
            }
        },
    )
    template.resource_count_is("AWS::IAM::Policy", 0)


def test_default_security_group_is_stripped(env: Synthesized) -> None:
    env.template(STACK).has_resource_properties(
        "Custom::VpcRestrictDefaultSG",
        {"DefaultSecurityGroupId": {"Fn::GetAtt": [VPC, "DefaultSecurityGroup"]}},
    )


def test_dev_has_no_interface_endpoints(dev: Synthesized) -> None:
    dev.template(STACK).resource_properties_count_is(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Interface"}, 0
    )
    dev.template(STACK).resource_count_is("AWS::EC2::SecurityGroup", 0)


def test_prod_has_private_interface_endpoints_behind_one_https_only_group(prod: Synthesized) -> None:
    endpoints = [
        r["Properties"]
        for r in prod.resources(STACK, "AWS::EC2::VPCEndpoint").values()
        if r["Properties"]["VpcEndpointType"] == "Interface"
    ]
    services = sorted(e["ServiceName"]["Fn::Join"][1][2] for e in endpoints)
    assert services == [
        ".athena",
        ".ec2messages",
        ".elasticmapreduce",
        ".glue",
        ".kms",
        ".logs",
        ".sagemaker.api",
        ".sagemaker.runtime",
        ".ssm",
        ".ssmmessages",
        ".states",  # Studio's notebooks start and follow training
        ".sts",
    ]
    (group_id,) = prod.resources(STACK, "AWS::EC2::SecurityGroup")
    for endpoint in endpoints:
        assert endpoint["PrivateDnsEnabled"] is True
        assert endpoint["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]
        assert len(endpoint["SubnetIds"]) == prod.settings.network.max_azs
    group = prod.resources(STACK, "AWS::EC2::SecurityGroup")[group_id]["Properties"]
    assert group["SecurityGroupIngress"] == [
        {
            "CidrIp": prod.settings.network.vpc_cidr,
            "Description": "HTTPS from inside the VPC",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert group["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"  # CDK's "no egress" marker


def test_endpoints_follow_the_service_switches() -> None:
    dev = load_settings("dev")
    off = {name: getattr(dev, name).model_copy(update={"enabled": False}) for name in ("emr", "sagemaker")}
    assert sorted(interface_endpoints(dev.model_copy(update=off))) == [
        "AthenaEndpoint",
        "GlueEndpoint",
        "KmsEndpoint",
        "LogsEndpoint",
        "StsEndpoint",
    ]
    only_emr = {
        name: getattr(dev, name).model_copy(update={"enabled": False}) for name in ("glue", "sagemaker")
    }
    assert {"GlueEndpoint", "EmrEndpoint", "SsmEndpoint"} <= set(
        interface_endpoints(dev.model_copy(update=only_emr))
    )


def _with_network(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"network": settings.network.model_copy(update=changes)})


def _network(app: App, settings: Settings) -> NetworkStack:
    """A NetworkStack with the alarms stack whose operations key encrypts its flow logs."""
    alarms = AlarmsStack(app, "Alarms", settings=settings)
    return NetworkStack(app, STACK, settings=settings, logs_key=alarms.operations_key)


@pytest.fixture(scope="module")
def nat_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A network with one NAT gateway, synthesized with the checks."""
    settings = _with_network(load_settings("dev"), nat_gateways=1)
    app = App(outdir=str(tmp_path_factory.mktemp("nat")), context=feature_flags())
    add_checks(app)
    _network(app, settings)
    return Template.from_json(app.synth().get_stack_artifact(STACK).template)


def test_nat_option_adds_public_subnets_that_never_assign_public_ips(nat_template: Template) -> None:
    nat_template.resource_count_is("AWS::EC2::NatGateway", 1)
    nat_template.resource_count_is("AWS::EC2::InternetGateway", 1)
    subnets = nat_template.find_resources("AWS::EC2::Subnet")
    assert len(subnets) == 4
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    nat_template.resource_properties_count_is(
        "AWS::EC2::Route", {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": Match.any_value()}, 2
    )


def test_configured_account_and_region_pin_the_stack_environment() -> None:
    settings = load_settings("dev").model_copy(update={"account": "123456789012", "region": "eu-west-1"})
    stack = _network(App(context=feature_flags()), settings)
    assert (stack.account, stack.region, stack.stack_name) == ("123456789012", "eu-west-1", "dsp-dev-network")


@pytest.mark.parametrize(("max_azs", "nat_gateways"), [(2, 0), (2, 2)])
def test_smallest_allowed_range_fits_every_subnet(
    tmp_path_factory: pytest.TempPathFactory, max_azs: int, nat_gateways: int
) -> None:
    settings = _with_network(
        load_settings("dev"), vpc_cidr="192.168.4.0/24", max_azs=max_azs, nat_gateways=nat_gateways
    )
    stack = _network(App(context=feature_flags()), settings)
    private = stack.network.vpc.private_subnets + stack.network.vpc.isolated_subnets
    assert len(private) == max_azs
    assert len(stack.network.vpc.public_subnets) == (max_azs if nat_gateways else 0)
