"""EmrStack: the security configuration, the certificate custom resource, roles, security groups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app import create_app
from config.settings import Settings, load_settings
from platform_constructs.emr.roles import CATALOG_ACTIONS, EMR_MANAGED_TAG, SESSION_MANAGER_ACTIONS
from platform_constructs.lake_access import READ_ACTIONS, WRITE_ACTIONS
from tests.conftest import Synthesized
from tests.unit.test_data_lake_stack import DATA_BUCKETS, KEY

STACK = "Emr"
CONFIGURATION = "SecurityConfigurationD94EC805"
DISK_KEY = "SecurityDiskKey509DB1A7"
CERTIFICATES = "TlsCertificates32120F24"
FUNCTION = "TlsCertificatesFunction2FE991B9"
FUNCTION_ROLE = "TlsCertificatesRole860B267F"
INSTANCE_ROLE, SERVICE_ROLE = "RolesInstanceRole80CBE9C3", "RolesServiceRoleE105F0D1"
STATEFUL = [DISK_KEY, CONFIGURATION]


def _props(env: Synthesized, logical_id: str) -> dict[str, Any]:
    return env.raw(STACK)["Resources"][logical_id]["Properties"]  # type: ignore[no-any-return]


def _statements(env: Synthesized, role: str) -> list[dict[str, Any]]:
    (policy,) = [
        policy
        for policy in env.resources(STACK, "AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"] == [{"Ref": role}]
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _s3_grants(env: Synthesized, role: str) -> dict[str, tuple[set[str], set[str]]]:
    """Lake bucket -> (S3 actions, resource suffixes) granted to ``role``."""
    grants: dict[str, tuple[set[str], set[str]]] = {}
    for statement in _statements(env, role):
        for resource in _as_list(statement["Resource"]):
            for zone, logical_id in DATA_BUCKETS.items():
                if logical_id in json.dumps(resource):
                    actions, suffixes = grants.setdefault(zone, (set(), set()))
                    actions.update(_as_list(statement["Action"]))
                    suffixes.add(resource["Fn::Join"][1][-1] if "Fn::Join" in resource else "")
    return grants


def test_stateful_logical_ids_are_pinned(env: Synthesized) -> None:
    assert set(STATEFUL) <= set(env.raw(STACK)["Resources"])


def test_security_configuration_encrypts_s3_disks_and_transit_and_requires_imdsv2(env: Synthesized) -> None:
    document = _props(env, CONFIGURATION)["SecurityConfiguration"]
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
    assert _props(env, DISK_KEY)["EnableKeyRotation"] is True


def test_certificates_are_made_at_deploy_into_the_artifacts_bucket_under_the_lake_key(
    env: Synthesized,
) -> None:
    certificates = env.raw(STACK)["Resources"][CERTIFICATES]
    assert certificates["Type"] == "Custom::EmrTlsCertificates"
    props = certificates["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert DATA_BUCKETS["artifacts"] in json.dumps(props["Bucket"]) and props["Prefix"] == "emr/tls/"
    assert KEY in json.dumps(props["KmsKeyArn"])


def test_certificate_function_runs_privately_alone_and_logs_encrypted(env: Synthesized) -> None:
    function = _props(env, FUNCTION)
    assert (function["Runtime"], function["Architectures"]) == ("python3.14", ["arm64"])
    assert function["Handler"] == "workloads.emr.certificates.handler"
    assert function["ReservedConcurrentExecutions"] == 1
    assert all("PrivateSubnet" in json.dumps(subnet) for subnet in function["VpcConfig"]["SubnetIds"])
    assert len(function["Layers"]) == 1
    ((log_group_id, log_group),) = env.resources(STACK, "AWS::Logs::LogGroup").items()
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": log_group_id}
    assert "KmsKeyId" in log_group["Properties"]
    assert log_group["Properties"]["RetentionInDays"] == env.settings.emr.log_retention_days


def test_certificate_function_may_only_put_under_its_prefix(env: Synthesized) -> None:
    assert _s3_grants(env, FUNCTION_ROLE) == {"artifacts": ({"s3:PutObject"}, {"/emr/tls/*"})}
    actions = [a for s in _statements(env, FUNCTION_ROLE) for a in _as_list(s["Action"])]
    assert not [a for a in actions if "*" in a]
    assert "kms:Decrypt" not in actions  # it writes; it never reads a zip back


def test_instance_role_reads_raw_and_curated_writes_analytics_and_its_artifact_prefixes(
    env: Synthesized,
) -> None:
    read = {a for a in READ_ACTIONS if a.startswith("s3:")}
    write = {a for a in WRITE_ACTIONS if a.startswith("s3:")}
    assert _s3_grants(env, INSTANCE_ROLE) == {
        "raw": (read, {"", "/*"}),
        "curated": (read, {"", "/*"}),
        "analytics": (write, {"", "/*"}),
        "artifacts": (read | write, {"", "/emr/logs/*", "/emr/tls/*"}),
    }
    statements = _statements(env, INSTANCE_ROLE)
    assert not [a for s in statements for a in _as_list(s["Action"]) if "*" in a]
    (catalog,) = [s for s in statements if "glue:GetTable" in _as_list(s["Action"])]
    assert sorted(catalog["Action"]) == sorted(CATALOG_ACTIONS)
    databases = [r["Fn::Join"][1][-1] for r in catalog["Resource"] if ":database/" in json.dumps(r)]
    names = env.platform.data_lake.catalog.database_names.values()
    assert sorted(databases) == sorted(f":database/{name}" for name in [*names, "default"])
    (ssm,) = [s for s in statements if "ssm:UpdateInstanceInformation" in _as_list(s["Action"])]
    assert sorted(ssm["Action"]) == sorted(SESSION_MANAGER_ACTIONS)
    (disk,) = [s for s in statements if DISK_KEY in json.dumps(s["Resource"])]
    assert "kms:GenerateDataKey" in disk["Action"]
    (profile,) = env.resources(STACK, "AWS::IAM::InstanceProfile").values()
    assert profile["Properties"]["Roles"] == [{"Ref": INSTANCE_ROLE}]
    assert "ManagedPolicyArns" not in _props(env, INSTANCE_ROLE)


def test_service_role_trusts_emr_of_this_account_with_only_the_v2_managed_policy(env: Synthesized) -> None:
    role = _props(env, SERVICE_ROLE)
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "elasticmapreduce.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1][-1] == ":cluster/*"
    (managed,) = role["ManagedPolicyArns"]
    assert managed["Fn::Join"][1][-1] == ":iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
    statements = _statements(env, SERVICE_ROLE)
    (pass_role,) = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert pass_role["Resource"] == {"Fn::GetAtt": [INSTANCE_ROLE, "Arn"]}
    (grant,) = [s for s in statements if s["Action"] == "kms:CreateGrant"]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_emr_managed_security_groups_and_private_subnets_carry_the_v2_policy_tag(env: Synthesized) -> None:
    tag = {"Key": EMR_MANAGED_TAG[0], "Value": EMR_MANAGED_TAG[1]}
    groups = {
        logical_id: group
        for logical_id, group in env.resources(STACK, "AWS::EC2::SecurityGroup").items()
        if "TlsCertificates" not in logical_id
    }
    assert len(groups) == 3
    assert all(tag in group["Properties"]["Tags"] for group in groups.values())
    subnets = env.resources("Network", "AWS::EC2::Subnet")
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
    settings = _with_emr(load_settings("dev"), certificates_zip="s3://pki-bucket/emr/certs.zip")
    app, _ = create_app(settings, outdir=str(tmp_path))
    app.synth()
    template = json.loads((tmp_path / f"{STACK}.template.json").read_text())
    resources = template["Resources"]
    assert not [
        r for r in resources.values() if r["Type"] in ("Custom::EmrTlsCertificates", "AWS::Lambda::Function")
    ]
    (configuration,) = [r for r in resources.values() if r["Type"] == "AWS::EMR::SecurityConfiguration"]
    tls = configuration["Properties"]["SecurityConfiguration"]["EncryptionConfiguration"]
    assert tls["InTransitEncryptionConfiguration"]["TLSCertificateConfiguration"]["S3Object"] == (
        "s3://pki-bucket/emr/certs.zip"
    )
    policies = json.dumps([r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"])
    assert ':s3:::pki-bucket/emr/certs.zip"' in policies


def test_disabled_emr_leaves_the_stack_out() -> None:
    settings = _with_emr(load_settings("dev"), enabled=False)
    app, platform = create_app(settings)
    assert platform.emr is None
    assert "Emr" not in [child.node.id for child in app.node.children]
