"""EmrStack: the security configuration, the certificate custom resource, roles, security groups."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from app import Platform, create_app
from config.settings import Settings, load_settings
from platform_constructs.emr.feature_step import SCRIPT as STEP_SCRIPT
from platform_constructs.emr.roles import CATALOG_ACTIONS, EMR_MANAGED_TAG, SESSION_MANAGER_ACTIONS
from platform_constructs.lake_access import READ_ACTIONS, WRITE_ACTIONS
from platform_constructs.python_modules import workload_modules
from tests.conftest import ROOT, Synthesized
from tests.unit.policies import as_list, lake_grants, role_statements
from tests.unit.references import operations_key, referenced
from tests.unit.test_data_lake_stack import DATA_BUCKETS, KEY

STACK = "Emr"
CONFIGURATION = "SecurityConfigurationD94EC805"
DISK_KEY = "SecurityDiskKey509DB1A7"
CERTIFICATES = "TlsCertificates32120F24"
FUNCTION = "TlsCertificatesFunction2FE991B9"
FUNCTION_ROLE = "TlsCertificatesRole860B267F"
TLS_KEY = "TlsCertificatesKey75372671"
INSTANCE_ROLE, SERVICE_ROLE = "RolesInstanceRole80CBE9C3", "RolesServiceRoleE105F0D1"
STATEFUL = [DISK_KEY, CONFIGURATION, TLS_KEY]


@pytest.fixture(scope="session", params=["prod", "transient"])
def clustered(request: pytest.FixtureRequest, synth: Callable[[str], Synthesized]) -> Synthesized:
    """The environments that start clusters: prod (the long-running one) and dev on transient
    clusters; dev's serverless runs start none, so it has no cluster security, roles or groups."""
    if request.param == "prod":
        return synth("prod")
    transient: Synthesized = request.getfixturevalue("transient")
    return transient


def test_an_environment_without_clusters_has_no_cluster_machinery(dev: Synthesized) -> None:
    assert not dev.settings.emr.runs_clusters
    types = {r["Type"] for r in dev.raw(STACK)["Resources"].values()}
    assert not types & {"AWS::EMR::SecurityConfiguration", "AWS::KMS::Key", "AWS::EC2::SecurityGroup"}
    assert not [lid for lid in dev.raw(STACK)["Resources"] if lid.startswith(("Roles", "TlsCertificates"))]


def test_stateful_logical_ids_are_pinned(clustered: Synthesized) -> None:
    assert set(STATEFUL) <= set(clustered.raw(STACK)["Resources"])


def test_security_configuration_encrypts_s3_disks_and_transit_and_requires_imdsv2(
    clustered: Synthesized,
) -> None:
    document = clustered.properties(STACK, CONFIGURATION)["SecurityConfiguration"]
    encryption = document["EncryptionConfiguration"]
    assert encryption["EnableAtRestEncryption"] is True and encryption["EnableInTransitEncryption"] is True
    at_rest = encryption["AtRestEncryptionConfiguration"]
    assert at_rest["S3EncryptionConfiguration"]["EncryptionMode"] == "SSE-KMS"
    assert KEY in json.dumps(at_rest["S3EncryptionConfiguration"]["AwsKmsKey"])
    assert at_rest["LocalDiskEncryptionConfiguration"] == {
        "EncryptionKeyProviderType": "AwsKms",
        "AwsKmsKey": {"Fn::GetAtt": [DISK_KEY, "Arn"]},
        "EnableEbsEncryption": True,
    }
    assert encryption["InTransitEncryptionConfiguration"]["TLSCertificateConfiguration"] == {
        "CertificateProviderType": "PEM",
        "S3Object": {"Fn::GetAtt": [CERTIFICATES, "Uri"]},
    }
    assert document["InstanceMetadataServiceConfiguration"]["MinimumInstanceMetadataServiceVersion"] == 2
    assert clustered.properties(STACK, DISK_KEY)["EnableKeyRotation"] is True


def test_certificates_are_made_at_deploy_into_the_artifacts_bucket_under_their_own_key(
    clustered: Synthesized,
) -> None:
    certificates = clustered.raw(STACK)["Resources"][CERTIFICATES]
    assert certificates["Type"] == "Custom::EmrTlsCertificates"
    props = certificates["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert DATA_BUCKETS["artifacts"] in json.dumps(props["Bucket"]) and props["Prefix"] == "emr/tls/"
    assert props["KmsKeyArn"] == {"Fn::GetAtt": [TLS_KEY, "Arn"]}
    config = clustered.settings.emr
    assert config.certificate_validity_days <= 365  # not the five years of old
    assert (props["ValidityDays"], props["Rotation"]) == (
        str(config.certificate_validity_days),
        str(config.certificate_rotation),
    )


def test_only_the_instance_role_may_decrypt_the_certificate_zips(clustered: Synthesized) -> None:
    key = clustered.properties(STACK, TLS_KEY)
    assert key["EnableKeyRotation"] is True
    statements = key["KeyPolicy"]["Statement"]
    instance_role = {"Fn::GetAtt": [INSTANCE_ROLE, "Arn"]}
    (allow,) = [s for s in statements if s["Effect"] == "Allow" and s["Action"] == "kms:Decrypt"]
    assert allow["Principal"] == {"AWS": instance_role}
    (deny,) = [s for s in statements if s["Effect"] == "Deny" and s["Action"] == "kms:Decrypt"]
    assert (deny["Principal"], deny["Resource"]) == ({"AWS": "*"}, "*")
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": instance_role}}
    writes = [
        s for s in role_statements(clustered, STACK, FUNCTION_ROLE) if TLS_KEY in json.dumps(s["Resource"])
    ]
    assert [s["Action"] for s in writes] == ["kms:GenerateDataKey"]


def test_certificate_zips_expire_a_month_after_their_certificate(clustered: Synthesized) -> None:
    rules = clustered.properties("DataLake", DATA_BUCKETS["artifacts"])["LifecycleConfiguration"]["Rules"]
    (tls,) = [rule for rule in rules if rule.get("Prefix") == "emr/tls/"]
    assert tls["Status"] == "Enabled"
    assert tls["ExpirationInDays"] == clustered.settings.emr.certificate_validity_days + 30
    # the zips' names are new each rotation, so versions turn noncurrent only by this expiry
    assert [r for r in rules if "NoncurrentVersionExpiration" in r and "Prefix" not in r]


def test_a_new_rotation_makes_a_new_certificate(tmp_path: Path) -> None:
    settings = load_settings("dev")
    rotated = _with_emr(
        settings,
        certificate_rotation=settings.emr.certificate_rotation + 1,
        feature_runs_on="transient_cluster",
    )
    app, _ = create_app(rotated, outdir=str(tmp_path))
    app.synth()
    template = json.loads((tmp_path / f"{STACK}.template.json").read_text())
    props = template["Resources"][CERTIFICATES]["Properties"]
    assert props["Rotation"] == str(settings.emr.certificate_rotation + 1)


def test_certificate_function_runs_privately_alone_and_logs_encrypted(clustered: Synthesized) -> None:
    function = clustered.properties(STACK, FUNCTION)
    assert (function["Runtime"], function["Architectures"]) == ("python3.14", ["arm64"])
    assert function["Handler"] == "workloads.emr.certificates.handler"
    assert "ReservedConcurrentExecutions" not in function  # it could block deploys at the minimum quota
    assert all("PrivateSubnet" in json.dumps(subnet) for subnet in function["VpcConfig"]["SubnetIds"])
    assert len(function["Layers"]) == 1
    log_group_id = function["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = clustered.resources(STACK, "AWS::Logs::LogGroup")[log_group_id]["Properties"]
    assert referenced(clustered, STACK, log_group["KmsKeyId"]) == operations_key(clustered)
    assert log_group["RetentionInDays"] == clustered.settings.emr.log_retention_days


def test_certificate_function_may_only_put_under_its_prefix(clustered: Synthesized) -> None:
    assert lake_grants(clustered, STACK, FUNCTION_ROLE) == {"artifacts": ({"s3:PutObject"}, {"/emr/tls/*"})}
    actions = [a for s in role_statements(clustered, STACK, FUNCTION_ROLE) for a in as_list(s["Action"])]
    assert not [a for a in actions if "*" in a]
    assert "kms:Decrypt" not in actions  # it writes; it never reads a zip back


LAMBDA_VPC_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}
"""The EC2 actions of AWSLambdaVPCAccessExecutionRole (v3, 2024-01-05): what Lambda needs of a
function's role to attach the function to its VPC."""


def test_certificate_function_role_lets_lambda_attach_it_to_the_vpc(clustered: Synthesized) -> None:
    statements = role_statements(clustered, STACK, FUNCTION_ROLE)
    ec2 = {a for s in statements for a in as_list(s["Action"]) if a.startswith("ec2:")}
    assert ec2 == LAMBDA_VPC_ACTIONS
    (vpc,) = [s for s in statements if "ec2:DescribeSubnets" in as_list(s["Action"])]
    assert vpc["Resource"] == "*"  # Lambda calls them before the interface (its ARN) exists


def test_instance_role_reads_the_store_list_and_curated_writes_analytics_and_its_artifact_prefixes(
    clustered: Synthesized,
) -> None:
    read = {a for a in READ_ACTIONS if a.startswith("s3:")}
    write = {a for a in WRITE_ACTIONS if a.startswith("s3:")}
    assert lake_grants(clustered, STACK, INSTANCE_ROLE) == {
        "raw": (read, {"", "/stores/*"}),
        "curated": (read, {"", "/*"}),
        "analytics": (write, {"", "/*"}),
        "artifacts": (read | write, {"", "/emr/logs/*", "/emr/tls/*"}),
    }
    statements = role_statements(clustered, STACK, INSTANCE_ROLE)
    assert not [a for s in statements for a in as_list(s["Action"]) if "*" in a]
    (catalog,) = [s for s in statements if "glue:GetTable" in as_list(s["Action"])]
    assert sorted(catalog["Action"]) == sorted(CATALOG_ACTIONS)
    databases = [r["Fn::Join"][1][-1] for r in catalog["Resource"] if ":database/" in json.dumps(r)]
    names = clustered.platform.data_lake.catalog.database_names.values()
    assert sorted(databases) == sorted(f":database/{name}" for name in [*names, "default"])
    (ssm,) = [s for s in statements if "ssm:UpdateInstanceInformation" in as_list(s["Action"])]
    assert sorted(ssm["Action"]) == sorted(SESSION_MANAGER_ACTIONS)
    (disk,) = [s for s in statements if DISK_KEY in json.dumps(s["Resource"])]
    assert "kms:GenerateDataKey" in disk["Action"]
    (profile,) = clustered.resources(STACK, "AWS::IAM::InstanceProfile").values()
    assert profile["Properties"]["Roles"] == [{"Ref": INSTANCE_ROLE}]
    assert "ManagedPolicyArns" not in clustered.properties(STACK, INSTANCE_ROLE)


def test_service_role_trusts_emr_of_this_account_with_only_the_v2_managed_policy(
    clustered: Synthesized,
) -> None:
    role = clustered.properties(STACK, SERVICE_ROLE)
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "elasticmapreduce.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1][-1] == ":cluster/*"
    (managed,) = role["ManagedPolicyArns"]
    assert managed["Fn::Join"][1][-1] == ":iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
    statements = role_statements(clustered, STACK, SERVICE_ROLE)
    # ours names EC2; on the transient path CDK's EmrCreateCluster adds an unconditioned grant of its own
    (pass_role,) = [s for s in statements if s["Action"] == "iam:PassRole" and "Condition" in s]
    assert pass_role["Resource"] == {"Fn::GetAtt": [INSTANCE_ROLE, "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    (grant,) = [s for s in statements if s["Action"] == "kms:CreateGrant"]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_emr_managed_security_groups_and_private_subnets_carry_the_v2_policy_tag(
    clustered: Synthesized,
) -> None:
    tag = {"Key": EMR_MANAGED_TAG[0], "Value": EMR_MANAGED_TAG[1]}
    groups = {
        logical_id: group
        for logical_id, group in clustered.resources(STACK, "AWS::EC2::SecurityGroup").items()
        if "TlsCertificates" not in logical_id and "ServerlessRun" not in logical_id
    }
    assert len(groups) == 3
    assert all(tag in group["Properties"]["Tags"] for group in groups.values())
    subnets = clustered.resources("Network", "AWS::EC2::Subnet")
    private = [s for logical_id, s in subnets.items() if "Private" in logical_id]
    assert private and all(tag in subnet["Properties"]["Tags"] for subnet in private)
    assert not [
        s
        for logical_id, s in subnets.items()
        if "Private" not in logical_id and tag in s["Properties"]["Tags"]
    ]


def _with_emr(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"emr": settings.emr.model_copy(update=changes)})


def test_a_forks_own_certificates_replace_the_custom_resource(tmp_path: Path) -> None:
    settings = _with_emr(
        load_settings("dev"),
        certificates_zip="s3://pki-bucket/emr/certs.zip",
        feature_runs_on="transient_cluster",
    )
    app, _ = create_app(settings, outdir=str(tmp_path))
    app.synth()
    template = json.loads((tmp_path / f"{STACK}.template.json").read_text())
    resources = template["Resources"]
    assert not [r for r in resources.values() if r["Type"] == "Custom::EmrTlsCertificates"]
    assert not [r for r in resources.values() if "certificates" in r["Properties"].get("Handler", "")]
    (configuration,) = [r for r in resources.values() if r["Type"] == "AWS::EMR::SecurityConfiguration"]
    tls = configuration["Properties"]["SecurityConfiguration"]["EncryptionConfiguration"]
    assert tls["InTransitEncryptionConfiguration"]["TLSCertificateConfiguration"]["S3Object"] == (
        "s3://pki-bucket/emr/certs.zip"
    )
    policies = json.dumps([r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"])
    assert ':s3:::pki-bucket/emr/certs.zip"' in policies
    assert TLS_KEY not in resources


def test_disabled_emr_leaves_the_stack_out(services_off: tuple[App, Platform]) -> None:
    app, platform = services_off
    assert platform.emr is None
    assert "Emr" not in [child.node.id for child in app.node.children]


def _cluster(env: Synthesized) -> dict[str, Any] | None:
    clusters = list(env.resources(STACK, "AWS::EMR::Cluster").values())
    assert len(clusters) == int(env.settings.emr.cluster.enabled)
    return clusters[0]["Properties"] if clusters else None


def test_long_running_cluster_fleets_spot_and_scaling_follow_config(env: Synthesized) -> None:
    cluster, config = _cluster(env), env.settings.emr
    if cluster is None:
        return  # dev ships with the long-running cluster off (asserted by _cluster)
    assert cluster["ReleaseLabel"] == config.release_label
    instances = cluster["Instances"]
    primary, core, (task,) = (
        instances["MasterInstanceFleet"],
        instances["CoreInstanceFleet"],
        instances["TaskInstanceFleets"],
    )
    assert primary["TargetOnDemandCapacity"] == 1
    assert [t["InstanceType"] for t in primary["InstanceTypeConfigs"]] == [config.primary_instance_type]
    assert core["TargetOnDemandCapacity"] == config.cluster.min_units and "TargetSpotCapacity" not in core
    assert [t["InstanceType"] for t in core["InstanceTypeConfigs"]] == config.core_instance_types
    assert [t["InstanceType"] for t in task["InstanceTypeConfigs"]] == config.task_instance_types
    spot = task["LaunchSpecifications"]["SpotSpecification"]
    assert (spot["AllocationStrategy"], spot["TimeoutAction"]) == (
        "capacity-optimized",
        "SWITCH_TO_ON_DEMAND",
    )
    for fleet in (primary, core, task):
        for instance_type in fleet["InstanceTypeConfigs"]:
            (volume,) = instance_type["EbsConfiguration"]["EbsBlockDeviceConfigs"]
            assert volume["VolumeSpecification"]["VolumeType"] == "gp3"
    limits = cluster["ManagedScalingPolicy"]["ComputeLimits"]
    tasks = config.cluster.max_units - config.cluster.min_units
    assert limits == {
        "UnitType": "InstanceFleetUnits",
        "MinimumCapacityUnits": config.cluster.min_units,
        "MaximumCapacityUnits": config.cluster.max_units,
        "MaximumCoreCapacityUnits": config.cluster.min_units,
        "MaximumOnDemandCapacityUnits": config.cluster.min_units
        + -(-tasks * (100 - config.task_spot_percent) // 100),
    }
    assert cluster["AutoTerminationPolicy"] == {"IdleTimeout": config.cluster.idle_timeout_seconds}
    assert cluster["StepConcurrencyLevel"] == config.step_concurrency


def test_long_running_cluster_security_network_logs_and_metastore(env: Synthesized) -> None:
    cluster = _cluster(env)
    if cluster is None:
        return
    assert cluster["SecurityConfiguration"] == {"Ref": CONFIGURATION}
    assert cluster["ServiceRole"] == {"Ref": SERVICE_ROLE}
    (profile_id,) = env.resources(STACK, "AWS::IAM::InstanceProfile")
    assert cluster["JobFlowRole"] == {"Ref": profile_id}
    instances = cluster["Instances"]
    assert "Ec2KeyName" not in instances and instances["KeepJobFlowAliveWhenNoSteps"] is True
    assert all("PrivateSubnet" in json.dumps(subnet) for subnet in instances["Ec2SubnetIds"])
    groups = env.resources(STACK, "AWS::EC2::SecurityGroup")
    for key, prefix in (
        ("EmrManagedMasterSecurityGroup", "PrimarySecurityGroup"),
        ("EmrManagedSlaveSecurityGroup", "CoreSecurityGroup"),
        ("ServiceAccessSecurityGroup", "ServiceAccessSecurityGroup"),
    ):
        (group_id,) = [logical_id for logical_id in groups if logical_id.startswith(prefix)]
        assert instances[key] == {"Fn::GetAtt": [group_id, "GroupId"]}
    assert DATA_BUCKETS["artifacts"] in json.dumps(cluster["LogUri"])
    assert cluster["LogUri"]["Fn::Join"][1][-1] == "/emr/logs/"
    assert KEY in json.dumps(cluster["LogEncryptionKmsKeyId"])
    configurations = {
        c["Classification"]: c.get("ConfigurationProperties", {}) for c in cluster["Configurations"]
    }
    factory = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
    for classification in ("hive-site", "spark-hive-site"):
        assert configurations[classification]["hive.metastore.client.factory.class"] == factory
    assert configurations["spark-defaults"]["spark.sql.adaptive.enabled"] == "true"
    assert configurations["spark"] == {"maximizeResourceAllocation": "true"}
    assert {a["Name"] for a in cluster["Applications"]} == {"Hadoop", "Hive", "Spark"}


def test_any_cluster_setting_change_renames_and_so_replaces_the_cluster(env: Synthesized) -> None:
    """A terminated cluster cannot be updated in place; a new name makes CloudFormation replace it."""
    stack = env.platform.emr
    assert stack is not None
    shape, config = stack.shape, env.settings
    names = {
        shape.fingerprint(),
        replace(shape, max_units=shape.max_units + 1).fingerprint(),
        replace(shape, task_types=shape.task_types[::-1]).fingerprint(),
        replace(shape, release_label="emr-7.11.0").fingerprint(),
        shape.fingerprint(idle=61),
    }
    assert len(names) == 5
    cluster = _cluster(env)
    if cluster is not None:
        fingerprint = shape.fingerprint(idle=config.emr.cluster.idle_timeout_seconds)
        generation = config.emr.cluster.generation
        assert cluster["Name"] == f"{config.name_prefix}-spark-{fingerprint}-g{generation}"
        assert {"Key": EMR_MANAGED_TAG[0], "Value": EMR_MANAGED_TAG[1]} in cluster["Tags"]


def test_cluster_replacement_can_terminate_the_old_cluster(env: Synthesized) -> None:
    """Every settings change replaces the cluster, and CloudFormation deletes the old one with
    TerminateJobFlows, which EMR refuses for a termination-protected cluster: the cluster is never
    protected; the stack's own termination protection (prod) guards against deleting the stack."""
    cluster = _cluster(env)
    if cluster is not None:
        assert cluster["Instances"].get("TerminationProtected", False) is False
    artifact = env.assembly.get_stack_artifact(STACK)
    assert artifact.termination_protection is env.settings.termination_protection
    assert artifact.termination_protection is (env.settings.environment == "prod")


def _group_ids(env: Synthesized) -> dict[str, str]:
    """Role (``Primary``, ``Core``, ``ServiceAccess``) -> logical ID of its EMR-managed group."""
    groups = env.resources(STACK, "AWS::EC2::SecurityGroup")
    return {
        name: next(i for i in groups if i.startswith(name)) for name in ("Primary", "Core", "ServiceAccess")
    }


def test_deleting_the_stack_revokes_emrs_rules_after_the_cluster_and_before_the_groups(
    clustered: Synthesized,
) -> None:
    """EMR's rules tie the groups together outside CloudFormation; EC2 refuses to delete a group
    another group's rule references. CloudFormation deletes a resource before what it depends on."""
    resources = clustered.raw(STACK)["Resources"]
    ((cleanup_id, cleanup),) = clustered.resources(STACK, "Custom::EmrSecurityGroupCleanup").items()
    groups = _group_ids(clustered)
    assert cleanup["Properties"]["GroupIds"] == [
        {"Fn::GetAtt": [groups[name], "GroupId"]} for name in ("Primary", "Core", "ServiceAccess")
    ]
    rules = {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
        and resource["Properties"]["GroupId"]["Fn::GetAtt"][0] in groups.values()
    }
    assert rules  # CloudFormation's own rules go first, so the function meets only EMR's
    assert all(cleanup_id in rule.get("DependsOn", []) for rule in rules.values())
    for logical_id in clustered.resources(STACK, "AWS::EMR::Cluster"):
        assert cleanup_id in resources[logical_id]["DependsOn"]  # gone before the clean-up runs
    (function_id,) = [
        i for i in clustered.resources(STACK, "AWS::Lambda::Function") if i.startswith("SecurityGroup")
    ]
    assert cleanup["Properties"]["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}
    function = clustered.properties(STACK, function_id)
    assert function["Handler"] == "workloads.emr.security_groups.handler"
    assert "VpcConfig" not in function and "ReservedConcurrentExecutions" not in function
    log_group = clustered.resources(STACK, "AWS::Logs::LogGroup")[
        function["LoggingConfig"]["LogGroup"]["Ref"]
    ]
    assert referenced(clustered, STACK, log_group["Properties"]["KmsKeyId"]) == operations_key(clustered)
    assert log_group["Properties"]["RetentionInDays"] == clustered.settings.emr.log_retention_days


def test_the_cleanup_may_describe_groups_and_revoke_rules_of_emr_tagged_groups_only(
    clustered: Synthesized,
) -> None:
    """Revokes are scoped by the EMR tag, not by the groups' IDs: when the groups are replaced,
    CloudFormation deletes the old clean-up resource under the new policy, which must still let it
    revoke the old groups' rules. The groups carry exactly the tag the condition names."""
    (role_id,) = [
        i for i in clustered.resources(STACK, "AWS::IAM::Role") if i.startswith("SecurityGroupCleanup")
    ]
    statements = [s for s in role_statements(clustered, STACK, role_id) if "ec2:" in json.dumps(s["Action"])]
    describe, revoke = sorted(statements, key=lambda s: json.dumps(s["Action"]))
    assert (describe["Action"], describe["Resource"]) == ("ec2:DescribeSecurityGroups", "*")
    assert sorted(revoke["Action"]) == ["ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"]
    tag, value = EMR_MANAGED_TAG
    assert (tag, value) == ("for-use-with-amazon-emr-managed-policies", "true")
    assert revoke["Condition"] == {"StringEquals": {f"aws:ResourceTag/{tag}": value}}
    assert revoke["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ec2:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":security-group/*",
            ],
        ]
    }
    for group_id in _group_ids(clustered).values():
        tags = clustered.properties(STACK, group_id)["Tags"]
        assert {"Key": tag, "Value": value} in tags


def _egress(env: Synthesized) -> set[tuple[str, str, int]]:
    """(group, destination group or CIDR, from-port) of every outbound rule in the stack."""
    rules = [
        (group_id, rule)
        for group_id, group in env.resources(STACK, "AWS::EC2::SecurityGroup").items()
        for rule in group["Properties"].get("SecurityGroupEgress", [])
    ]
    for rule in env.resources(STACK, "AWS::EC2::SecurityGroupEgress").values():
        rules.append((rule["Properties"]["GroupId"]["Fn::GetAtt"][0], rule["Properties"]))
    return {
        (
            group_id,
            json.dumps(rule.get("DestinationSecurityGroupId", rule.get("CidrIp"))),
            rule.get("FromPort"),
        )
        for group_id, rule in rules
    }


def test_emr_groups_open_the_paths_emr_does_not_add_itself(clustered: Synthesized) -> None:
    groups = clustered.resources(STACK, "AWS::EC2::SecurityGroup")
    ids = {
        name: next(i for i in groups if i.startswith(name)) for name in ("Primary", "Core", "ServiceAccess")
    }

    def group(name: str) -> str:
        return json.dumps({"Fn::GetAtt": [ids[name], "GroupId"]})

    egress = _egress(clustered)
    for node in ("Primary", "Core"):
        assert (ids[node], '"0.0.0.0/0"', 443) in egress
        assert (ids["ServiceAccess"], group(node), 8443) in egress
    assert (ids["Primary"], group("ServiceAccess"), 9443) in egress


def test_transient_runs_may_attach_their_termination_and_scaling_policies(transient: Synthesized) -> None:
    roles = transient.resources(STACK, "AWS::IAM::Role")
    (machine_role,) = [i for i in roles if i.startswith("TransientRunStateMachineRole")]
    actions = {a for s in role_statements(transient, STACK, machine_role) for a in as_list(s["Action"])}
    policies = {"elasticmapreduce:PutAutoTerminationPolicy", "elasticmapreduce:PutManagedScalingPolicy"}
    assert policies <= actions


def test_feature_step_ships_its_script_and_modules_and_nodes_read_only_those(clustered: Synthesized) -> None:
    parts = clustered.raw(STACK)["Outputs"]["FeatureStepArguments"]["Value"]["Fn::Join"][1]
    assert parts[0] == "spark-submit,--deploy-mode,cluster,--py-files"
    modules_key, script_key = (part["Fn::Sub"].rsplit("/", 1)[1] for part in parts[1:3])
    assert (clustered.outdir / f"asset.{script_key}").read_bytes() == (ROOT / STEP_SCRIPT).read_bytes()
    shipped = clustered.outdir / f"asset.{modules_key.removesuffix('.zip')}"
    assert sorted(str(p.relative_to(shipped)) for p in shipped.rglob("*.py")) == list(
        workload_modules(STEP_SCRIPT)
    )
    assert [part for part in parts[3:] if isinstance(part, str)] == [
        "--curated-url",
        "--raw-url",
        "--analytics-url",
    ]
    readable = [
        r
        for s in role_statements(clustered, STACK, INSTANCE_ROLE)
        if "cdk-" in json.dumps(s["Resource"])
        for r in as_list(s["Resource"])
    ]
    assert sorted(r["Fn::Join"][1][-1].lstrip("/") for r in readable) == sorted([modules_key, script_key])


def _definition(env: Synthesized) -> dict[str, Any]:
    """The transient run's state machine definition, each CloudFormation token as ``TOKEN``."""
    (machine,) = env.resources(STACK, "AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))  # type: ignore[no-any-return]


def _paths(states: dict[str, Any], start: str, seen: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every path of state names from ``start`` to an end (Succeed, Fail or End)."""
    state, path = states[start], (*seen, start)
    targets = [state["Next"]] if "Next" in state else []
    targets += [catch["Next"] for catch in state.get("Catch", [])]
    if not targets:
        return [path]
    return [found for target in targets if target not in path for found in _paths(states, target, path)]


def test_every_path_after_the_cluster_exists_terminates_it(transient: Synthesized) -> None:
    definition = _definition(transient)
    states = definition["States"]
    assert definition["StartAt"] == "CreateCluster"
    create = states["CreateCluster"]
    assert create["Resource"].endswith(
        ":states:::elasticmapreduce:createCluster"
    )  # returns at once with the ID
    terminating = {
        name
        for name, state in states.items()
        if "elasticmapreduce:terminateCluster" in state.get("Resource", "")
    }
    assert terminating == {"TerminateCluster", "TerminateAfterFailure"}
    paths = _paths(states, create["Next"])
    assert len(paths) == 2  # the step succeeds, or it fails or times out
    assert all(terminating & set(path) for path in paths), paths
    assert {states[path[-1]]["Type"] for path in paths} == {"Succeed", "Fail"}
    (catch,) = states["RunFeatureStep"]["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "TerminateAfterFailure"
    for name in terminating:
        (retry,) = states[name]["Retry"]
        assert retry["ErrorEquals"] == ["States.ALL"] and retry["MaxAttempts"] >= 3
    (not_created,) = [c["Next"] for c in create["Catch"]]
    assert states[not_created]["Type"] == "Fail"  # nothing to terminate: EMR refused the cluster


def test_transient_step_runs_the_feature_step_with_the_inputs_days_and_a_timeout(
    transient: Synthesized,
) -> None:
    step = _definition(transient)["States"]["RunFeatureStep"]
    assert step["Resource"].endswith(":states:::elasticmapreduce:addStep.sync")
    assert step["QueryLanguage"] == "JSONata"
    assert step["TimeoutSeconds"] == transient.settings.emr.step_timeout_minutes * 60
    arguments = step["Arguments"]["Step"]["HadoopJarStep"]
    assert arguments["Jar"] == "command-runner.jar"
    assert arguments["Args"][:2] == ["spark-submit", "--deploy-mode"]
    assert arguments["Args"][-4:] == [
        "--first-day",
        "{% $states.input.first_day %}",
        "--last-day",
        "{% $states.input.last_day %}",
    ]


def test_transient_cluster_has_the_shared_security_fleets_and_metastore(transient: Synthesized) -> None:
    parameters = _definition(transient)["States"]["CreateCluster"]["Parameters"]
    config = transient.settings.emr
    assert parameters["ReleaseLabel"] == config.release_label
    assert {"SecurityConfiguration", "ServiceRole", "JobFlowRole", "LogUri"} <= set(parameters)
    fleets = {fleet["InstanceFleetType"]: fleet for fleet in parameters["Instances"]["InstanceFleets"]}
    assert [t["InstanceType"] for t in fleets["CORE"]["InstanceTypeConfigs"]] == config.core_instance_types
    task = fleets["TASK"]
    assert [t["InstanceType"] for t in task["InstanceTypeConfigs"]] == config.task_instance_types
    spot = task["LaunchSpecifications"]["SpotSpecification"]
    assert (spot["AllocationStrategy"], spot["TimeoutAction"]) == (
        "capacity-optimized",
        "SWITCH_TO_ON_DEMAND",
    )
    assert "Ec2KeyName" not in parameters["Instances"]
    assert parameters["AutoTerminationPolicy"] == {"IdleTimeout": config.cluster.idle_timeout_seconds}
    limits = parameters["ManagedScalingPolicy"]["ComputeLimits"]
    assert (limits["MinimumCapacityUnits"], limits["MaximumCapacityUnits"]) == (
        config.cluster.min_units,
        config.cluster.max_units,
    )
    classifications = {c["Classification"] for c in parameters["Configurations"]}
    assert {"hive-site", "spark-hive-site", "spark-defaults", "spark"} <= classifications
    tags = {tag["Key"]: tag["Value"] for tag in parameters["Tags"]}  # cost allocation (the budget's filter)
    assert tags.items() >= transient.settings.resource_tags.items()


def test_transient_runs_are_logged_traced_and_their_failures_alarm(transient: Synthesized) -> None:
    ((machine_id, machine),) = transient.resources(STACK, "AWS::StepFunctions::StateMachine").items()
    props = machine["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    (destination,) = props["LoggingConfiguration"]["Destinations"]
    log_group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    key = transient.resources(STACK, "AWS::Logs::LogGroup")[log_group_id]["Properties"]["KmsKeyId"]
    assert referenced(transient, STACK, key) == operations_key(transient)
    rules = [
        r["Properties"]
        for r in transient.resources(STACK, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.states"]
    ]
    (rule,) = rules
    assert rule["EventPattern"]["detail"]["stateMachineArn"] == [{"Ref": machine_id}]
    assert set(rule["EventPattern"]["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    assert "AlarmsTopic" in json.dumps(rule["Targets"][0]["Arn"])


def test_certificate_layer_holds_cryptography_and_nothing_of_the_build_machine(
    clustered: Synthesized,
) -> None:
    """pip writes the build's interpreter path into console scripts; the layer leaves them out, so
    its asset hash is the same on every machine (and no machine path is deployed)."""
    (layer,) = clustered.resources(STACK, "AWS::Lambda::LayerVersion").values()
    key = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    contents = clustered.outdir / f"asset.{key}"
    assert (contents / "python" / "cryptography").is_dir()
    root = str(ROOT).encode()
    assert not [path for path in contents.rglob("*") if path.is_file() and root in path.read_bytes()]


# --- the serverless engine (dev and prod) ----------------------------------------------------------


def _one(env: Synthesized, resource_type: str, part: str = "ServerlessRun") -> tuple[str, dict[str, Any]]:
    (found,) = [(i, r) for i, r in env.resources(STACK, resource_type).items() if part in i]
    return found


def test_serverless_application_release_arm64_auto_start_stop_and_capacity_follow_config(
    env: Synthesized,
) -> None:
    _, application = _one(env, "AWS::EMRServerless::Application")
    props, config = application["Properties"], env.settings.emr
    assert (props["Type"], props["ReleaseLabel"], props["Architecture"]) == (
        "SPARK",
        config.release_label,
        "ARM64",
    )
    assert props["Name"] == f"{env.settings.name_prefix}-features"
    assert props["AutoStartConfiguration"] == {"Enabled": True}
    assert props["AutoStopConfiguration"] == {
        "Enabled": True,
        "IdleTimeoutMinutes": config.serverless.idle_timeout_minutes,
    }
    assert props["MaximumCapacity"] == {
        "Cpu": f"{config.serverless.max_vcpu} vCPU",
        "Memory": f"{config.serverless.max_memory_gb} GB",
        "Disk": f"{config.serverless.max_disk_gb} GB",
    }
    assert "InitialCapacity" not in props  # nothing pre-initialized: nothing billed between runs
    monitoring = props["MonitoringConfiguration"]
    s3_logs = monitoring["S3MonitoringConfiguration"]
    assert "/emr/serverless-logs/" in json.dumps(s3_logs["LogUri"])
    # the bucket's default key encrypts them: a key named here would refuse any submitter without it
    assert "EncryptionKeyArn" not in s3_logs
    assert monitoring["ManagedPersistenceMonitoringConfiguration"] == {"Enabled": False}  # ours only
    cloudwatch = monitoring["CloudWatchLoggingConfiguration"]
    assert cloudwatch["Enabled"] is True
    group_id = cloudwatch["LogGroupName"]["Ref"]
    group = env.resources(STACK, "AWS::Logs::LogGroup")[group_id]["Properties"]
    assert referenced(env, STACK, group["KmsKeyId"]) == operations_key(env)
    assert group["RetentionInDays"] == config.log_retention_days


def test_serverless_application_runs_without_a_vpc_unless_the_subnets_reach_aws(env: Synthesized) -> None:
    _, application = _one(env, "AWS::EMRServerless::Application")
    network = application["Properties"].get("NetworkConfiguration")
    groups = [i for i in env.resources(STACK, "AWS::EC2::SecurityGroup") if "ServerlessRun" in i]
    if not env.settings.network.interface_endpoints:  # dev
        assert network is None and groups == []
        return
    (group_id,) = groups
    assert network["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]
    assert len(network["SubnetIds"]) == env.settings.network.max_azs
    assert all("Private" in json.dumps(subnet) for subnet in network["SubnetIds"])
    group = env.properties(STACK, group_id)
    assert group["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS endpoints and S3",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in group


def test_serverless_job_role_is_trusted_by_emr_serverless_for_this_application_only(env: Synthesized) -> None:
    application_id, _ = _one(env, "AWS::EMRServerless::Application")
    _, role = _one(env, "AWS::IAM::Role", "ServerlessRunJobRole")
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "emr-serverless.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {
            "aws:SourceArn": [
                {"Fn::GetAtt": [application_id, "Arn"]},
                {"Fn::Join": ["", [{"Fn::GetAtt": [application_id, "Arn"]}, "/*"]]},
            ]
        },
    }
    assert "ManagedPolicyArns" not in role["Properties"]


def test_serverless_job_role_names_every_action_and_prefix(env: Synthesized) -> None:
    role_id, _ = _one(env, "AWS::IAM::Role", "ServerlessRunJobRole")
    read = {a for a in READ_ACTIONS if a.startswith("s3:")}
    write = {a for a in WRITE_ACTIONS if a.startswith("s3:")}
    assert lake_grants(env, STACK, role_id) == {
        "raw": (read, {"", "/stores/*"}),  # the store list only
        "curated": (read, {"", "/*"}),
        "analytics": (write, {"", "/*"}),
        "artifacts": (write, {"", "/emr/serverless-logs/*"}),
    }
    statements = role_statements(env, STACK, role_id)
    assert not [a for s in statements for a in as_list(s["Action"]) if "*" in a]
    (catalog,) = [s for s in statements if "glue:GetTable" in as_list(s["Action"])]
    assert sorted(catalog["Action"]) == sorted(CATALOG_ACTIONS)
    (code,) = [s for s in statements if "cdk-" in json.dumps(s["Resource"])]
    assert code["Action"] == "s3:GetObject" and len(code["Resource"]) == 2  # the script and the modules
    (log_group_id, _) = _one(env, "AWS::Logs::LogGroup", "ServerlessRunJobLogs")
    (streams,) = [s for s in statements if "logs:PutLogEvents" in as_list(s["Action"])]
    assert streams["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    assert sorted(streams["Action"]) == [
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]


def _serverless_definition(env: Synthesized) -> dict[str, Any]:
    (machine,) = [
        m for i, m in env.resources(STACK, "AWS::StepFunctions::StateMachine").items() if "ServerlessRun" in i
    ]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))  # type: ignore[no-any-return]


def test_serverless_run_submits_the_feature_job_and_fails_readably(env: Synthesized) -> None:
    definition = _serverless_definition(env)
    assert definition["QueryLanguage"] == "JSONata"
    states = definition["States"]
    task = states[definition["StartAt"]]
    assert task["Resource"] == "arn:TOKEN:states:::emr-serverless:startJobRun.sync"
    timeout = env.settings.emr.step_timeout_minutes
    arguments = task["Arguments"]
    assert arguments["ExecutionTimeoutMinutes"] == timeout  # EMR Serverless cancels the job
    assert task["TimeoutSeconds"] == (timeout + 15) * 60  # the application's start and the queue
    assert {"ApplicationId", "ExecutionRoleArn", "ClientToken", "Name"} <= set(arguments)
    spark = arguments["JobDriver"]["SparkSubmit"]
    assert [a for a in spark["EntryPointArguments"] if "TOKEN" not in a] == [
        "--curated-url",
        "--raw-url",
        "--analytics-url",
        "--first-day",
        "{% $states.input.first_day %}",
        "--last-day",
        "{% $states.input.last_day %}",
    ]
    assert spark["SparkSubmitParameters"].startswith("--py-files ")
    assert "AWSGlueDataCatalogHiveClientFactory" in spark["SparkSubmitParameters"]
    (catch,) = task["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"]
    failed = states[catch["Next"]]
    assert failed["Type"] == "Fail" and "$states.input.Cause" in failed["Cause"]
    assert states[task["Next"]]["Type"] == "Succeed"


def test_serverless_run_may_start_watch_and_cancel_this_applications_jobs_and_pass_only_its_role(
    env: Synthesized,
) -> None:
    application_id, _ = _one(env, "AWS::EMRServerless::Application")
    job_role, _ = _one(env, "AWS::IAM::Role", "ServerlessRunJobRole")
    (machine_role,) = [
        i for i in env.resources(STACK, "AWS::IAM::Role") if i.startswith("ServerlessRunStateMachineRole")
    ]
    statements = role_statements(env, STACK, machine_role)
    by_action = {a: s for s in statements for a in as_list(s["Action"])}
    application_arn = {"Fn::GetAtt": [application_id, "Arn"]}
    assert by_action["emr-serverless:StartJobRun"]["Resource"] == application_arn
    for action in ("emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"):
        assert by_action[action]["Resource"] == {"Fn::Join": ["", [application_arn, "/jobruns/*"]]}
    for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
        assert "rule/StepFunctionsGetEventsForEMRServerlessJobRule" in json.dumps(
            by_action[action]["Resource"]
        )
    pass_role = by_action["iam:PassRole"]
    assert pass_role["Resource"] == {"Fn::GetAtt": [job_role, "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}}


def test_failed_or_cancelled_serverless_jobs_of_this_application_alarm(env: Synthesized) -> None:
    application_id, _ = _one(env, "AWS::EMRServerless::Application")
    (rule,) = [
        r["Properties"]
        for r in env.resources(STACK, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.emr-serverless"]
    ]
    pattern = rule["EventPattern"]
    assert pattern["detail-type"] == ["EMR Serverless Job Run State Change"]
    assert pattern["detail"] == {
        "state": ["FAILED", "CANCELLED"],
        "applicationId": [{"Fn::GetAtt": [application_id, "ApplicationId"]}],
    }
    assert "AlarmsTopic" in json.dumps(rule["Targets"][0]["Arn"])


def test_only_the_transient_engine_makes_transient_clusters(env: Synthesized, transient: Synthesized) -> None:
    assert env.resources(STACK, "AWS::EMRServerless::Application") != {}
    assert transient.resources(STACK, "AWS::EMRServerless::Application") == {}
    assert "RunFeatureStep" in _definition(transient)["States"]
    assert "CreateCluster" not in json.dumps(_serverless_definition(env))
