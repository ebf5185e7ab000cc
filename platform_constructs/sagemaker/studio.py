"""SageMaker Studio: the domain, one profile and private JupyterLab space per user, and its clean-up."""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import CustomResource, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from platform_constructs.keys import grant_for_aws_resources
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards
from platform_constructs.providers import WaitingProvider
from platform_constructs.sagemaker.roles import sagemaker_arn
from platform_constructs.sagemaker.studio_roles import StudioRole

CLEANUP = "workloads/sagemaker/studio_cleanup.py"
PLATFORM_FILE = "~/.dsp-platform.json"
"""Where each JupyterLab app finds the platform's names (``notebooks/lake.py`` reads it)."""
STARTER_FOLDER = "~"
"""Where the starter files land in each user's space, as laid out in the repository
(``notebooks/``, the ``workloads`` modules they import), never over a file the user has."""


@dataclass(frozen=True)
class StudioApps:
    """How users' JupyterLab apps run: the instance type they start on and the ones they may pick,
    how long an idle app runs before it stops, the volume of each private space."""

    default_instance_type: str
    instance_types: Sequence[str]
    idle: Duration
    volume_gb: int


class StudioDomain(Construct):
    """A SageMaker Studio domain named ``name`` with JupyterLab as its default experience, and for
    each user (name -> ``roles`` key) a user profile running as that role and a private JupyterLab
    space. Authentication is ``auth`` (``IAM``, or ``SSO`` for IAM Identity Center); apps run in
    ``subnets`` of ``vpc`` in one security group (HTTPS and NFS out, Studio's app ports among
    themselves), with no internet of their own when ``vpc_only`` (the subnets need the interface
    endpoints); EFS and the spaces' volumes are encrypted with ``key``. Idle apps stop after
    ``apps.idle``; apps start only on ``apps.instance_types``. Each app runs the ``starter``
    lifecycle script at start: it writes the platform's names (``platform``) to
    :data:`PLATFORM_FILE` and copies the ``notebooks`` asset into :data:`STARTER_FOLDER` without
    overwriting. Deleting the stack first deletes the users' apps and, when ``removal_policy`` is
    DESTROY, the spaces, profiles and the domain with its EFS file system
    (:mod:`workloads.sagemaker.studio_cleanup`); otherwise those are retained. Exposes ``domain``,
    ``domain_id``, ``security_group``, ``profiles`` and ``spaces`` (user -> resource)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        auth: str,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        vpc_only: bool,
        key: kms.IKey,
        roles: Mapping[str, StudioRole],
        default_role: str,
        users: Mapping[str, str],
        apps: StudioApps,
        notebooks: s3_assets.Asset,
        platform: Mapping[str, str],
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name: the domain's name.
        :param auth: ``IAM`` or ``SSO``.
        :param vpc: the platform's VPC.
        :param subnets: the private subnets the apps run in.
        :param vpc_only: apps reach AWS only through the VPC (its endpoints); else through SageMaker's
            internet access.
        :param key: encrypts the domain's EFS and the spaces' volumes.
        :param roles: execution role of each kind of user.
        :param default_role: the kind whose role is the domain's default.
        :param users: user name -> kind (a key of ``roles``).
        :param apps: instance types, idle stop and volume size of the JupyterLab apps.
        :param notebooks: the starter notebooks and the modules they import (a folder asset).
        :param platform: what the lifecycle script writes to :data:`PLATFORM_FILE`.
        :param logs_key: encrypts the clean-up functions' logs.
        :param log_retention: how long those logs are kept.
        :param removal_policy: RETAIN (default) or DESTROY for the domain, profiles and spaces.
        """
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Studio apps: HTTPS to AWS, NFS to the home EFS, app ports among themselves",
            allow_all_outbound=False,
        )
        group = self.security_group
        group.add_ingress_rule(group, ec2.Port.tcp_range(8192, 65535), "Studio apps among themselves")
        group.add_egress_rule(group, ec2.Port.tcp_range(8192, 65535), "Studio apps among themselves")
        group.add_egress_rule(
            ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(2049), "NFS to the domain's EFS"
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the VPC endpoints and S3")
        starter = _starter(self, name, notebooks, platform)
        UserSettings = sagemaker.CfnDomain.UserSettingsProperty
        self.domain = sagemaker.CfnDomain(
            self,
            "Domain",
            domain_name=name,
            auth_mode=auth,
            vpc_id=vpc.vpc_id,
            subnet_ids=[subnet.subnet_id for subnet in subnets],
            app_network_access_type="VpcOnly" if vpc_only else "PublicInternetOnly",
            kms_key_id=key.key_arn,
            tag_propagation="ENABLED",
            default_user_settings=UserSettings(
                execution_role=roles[default_role].role_arn,
                security_groups=[group.security_group_id],
                studio_web_portal="ENABLED",
                default_landing_uri="studio::",
                jupyter_lab_app_settings=_jupyter_lab(apps, starter.attr_studio_lifecycle_config_arn),
                space_storage_settings=sagemaker.CfnDomain.DefaultSpaceStorageSettingsProperty(
                    default_ebs_storage_settings=sagemaker.CfnDomain.DefaultEbsStorageSettingsProperty(
                        default_ebs_volume_size_in_gb=apps.volume_gb,
                        maximum_ebs_volume_size_in_gb=apps.volume_gb,
                    )
                ),
            ),
        )
        self.domain.apply_removal_policy(removal_policy)
        self.domain_id = self.domain.attr_domain_id
        for role in roles.values():
            grant_for_aws_resources(key, role)  # the volumes of the apps it starts
            role.use_domain(self.domain_id, apps.instance_types)
        self.profiles: dict[str, sagemaker.CfnUserProfile] = {}
        self.spaces: dict[str, sagemaker.CfnSpace] = {}
        for user, kind in users.items():
            self.profiles[user] = sagemaker.CfnUserProfile(
                self,
                f"Profile{user}",
                domain_id=self.domain_id,
                user_profile_name=user,
                single_sign_on_user_identifier="UserName" if auth == "SSO" else None,
                single_sign_on_user_value=user if auth == "SSO" else None,
                user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(
                    execution_role=roles[kind].role_arn, security_groups=[group.security_group_id]
                ),
            )
            self.spaces[user] = _private_space(self, user, self.domain_id, apps.volume_gb)
            self.spaces[user].add_resource_dependency(self.profiles[user])
            for resource in (self.profiles[user], self.spaces[user]):
                resource.apply_removal_policy(removal_policy)
        self._cleanup(logs_key, log_retention, removal_policy)

    def _cleanup(
        self, logs_key: kms.IKey, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy
    ) -> None:
        """The custom resource that deletes what CloudFormation cannot (:mod:`studio_cleanup`); it
        depends on the domain, profiles and spaces, so it goes first."""
        domain_arn = sagemaker_arn(self, "domain", self.domain_id)
        destroy = removal_policy == RemovalPolicy.DESTROY
        role = iam.Role(
            self,
            "CleanupRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Deletes the Studio domain's apps (and with a destroyed stack its spaces, "
            "profiles and domain; SageMaker's own role deletes the EFS)",
        )
        domain = self.domain_id
        statements = [
            (["sagemaker:ListApps", "sagemaker:ListSpaces", "sagemaker:ListUserProfiles"], "*"),
            (["sagemaker:DescribeDomain"], domain_arn),
            (["sagemaker:DeleteApp"], sagemaker_arn(self, "app", f"{domain}/*")),
        ]
        if destroy:
            statements += [
                (["sagemaker:DeleteSpace"], sagemaker_arn(self, "space", f"{domain}/*")),
                (["sagemaker:DeleteUserProfile"], sagemaker_arn(self, "user-profile", f"{domain}/*")),
                (["sagemaker:DeleteDomain"], domain_arn),
            ]
        for actions, arn in statements:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=[arn]))
        log_group = logs.LogGroup(
            self,
            "CleanupLogs",
            encryption_key=logs_key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        log_group.grant_write(role)
        provider = WaitingProvider(
            self,
            "CleanupProvider",
            entry=CLEANUP,
            description="Studio domain clean-up",
            role=role,
            log_group=log_group,
            query_interval=Duration.seconds(30),
            total_timeout=Duration.minutes(55),
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        cleanup = CustomResource(
            self,
            "Cleanup",
            service_token=provider.service_token,
            resource_type="Custom::StudioCleanup",
            properties={"DomainId": domain, "DeleteDomain": "true" if destroy else "false"},
        )
        for resource in (self.domain, *self.profiles.values(), *self.spaces.values()):
            cleanup.node.add_dependency(resource)
        acknowledge_wildcards(
            role,
            reason="Studio's list actions take no resource; the apps, spaces and profiles of this one "
            "domain, whose names users choose at run time; the functions' own log streams.",
            resources=[*(arn for _, arn in statements if "*" in arn), log_group.log_group_arn],
        )
        acknowledge_own_policy(role, "The clean-up functions' own role: this domain's Studio resources.")


def _jupyter_lab(apps: StudioApps, starter_arn: str) -> sagemaker.CfnDomain.JupyterLabAppSettingsProperty:
    """JupyterLab on ``apps.default_instance_type`` with the starter script built in, stopped after
    ``apps.idle`` idle (users may shorten it, never lengthen it)."""
    Domain = sagemaker.CfnDomain
    idle = int(apps.idle.to_minutes())
    return Domain.JupyterLabAppSettingsProperty(
        default_resource_spec=Domain.ResourceSpecProperty(instance_type=apps.default_instance_type),
        built_in_lifecycle_config_arn=starter_arn,  # runs at every start, resolved from the domain
        lifecycle_config_arns=[starter_arn],
        app_lifecycle_management=Domain.AppLifecycleManagementProperty(
            idle_settings=Domain.IdleSettingsProperty(
                lifecycle_management="ENABLED",
                idle_timeout_in_minutes=idle,
                min_idle_timeout_in_minutes=60,
                max_idle_timeout_in_minutes=idle,
            )
        ),
    )


def _private_space(scope: Construct, user: str, domain_id: str, volume_gb: int) -> sagemaker.CfnSpace:
    """``user``'s private JupyterLab space, named after them."""
    Space = sagemaker.CfnSpace
    return Space(
        scope,
        f"Space{user}",
        domain_id=domain_id,
        space_name=user,
        ownership_settings=Space.OwnershipSettingsProperty(owner_user_profile_name=user),
        space_sharing_settings=Space.SpaceSharingSettingsProperty(sharing_type="Private"),
        space_settings=Space.SpaceSettingsProperty(
            app_type="JupyterLab",
            space_storage_settings=Space.SpaceStorageSettingsProperty(
                ebs_storage_settings=Space.EbsStorageSettingsProperty(ebs_volume_size_in_gb=volume_gb)
            ),
        ),
    )


STARTER_SCRIPT = Path(__file__).with_name("studio_starter.sh")
"""The lifecycle script, with ``{placeholders}`` for its names (``str.format``)."""


def _starter(
    scope: Construct, domain_name: str, notebooks: s3_assets.Asset, platform: Mapping[str, str]
) -> sagemaker.CfnStudioLifecycleConfig:
    """The JupyterLab lifecycle configuration running :data:`STARTER_SCRIPT`; named after a hash of
    the script with its names and of the notebooks, so a new version is a new configuration (names
    are create-only)."""
    stack = Stack.of(scope)
    region = stack.region
    script = STARTER_SCRIPT.read_text(encoding="utf-8").format(
        platform_file=PLATFORM_FILE,
        platform=json.dumps(dict(platform), indent=1, sort_keys=True),
        starter_folder=STARTER_FOLDER,
        region=region,
        bucket=notebooks.s3_bucket_name,
        key=notebooks.s3_object_key,
    )
    # the script names the notebooks' object, whose key is the asset's hash; tokens as CloudFormation's
    filled = json.dumps(stack.resolve(script), sort_keys=True)
    version = hashlib.sha256(filled.encode()).hexdigest()[:8]
    return sagemaker.CfnStudioLifecycleConfig(
        scope,
        "Starter",
        studio_lifecycle_config_name=f"{domain_name}-starter-{version}",
        studio_lifecycle_config_app_type="JupyterLab",
        studio_lifecycle_config_content=Fn.base64(script),
    )
