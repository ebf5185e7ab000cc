"""EmrStack: what every EMR cluster of the platform runs with."""

from aws_cdk import Annotations, CfnOutput, Duration, Fn, RemovalPolicy, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.settings import Settings
from platform_constructs.catalog import LakeCatalog
from platform_constructs.data_lake import DataLake
from platform_constructs.emr.certificates import TlsCertificates
from platform_constructs.emr.cluster import ClusterPlacement, ClusterShape, LongRunningCluster
from platform_constructs.emr.feature_step import FeatureStep
from platform_constructs.emr.roles import EMR_MANAGED_TAG, EmrRoles
from platform_constructs.emr.security_configuration import EmrSecurityConfiguration
from platform_constructs.emr.security_group_cleanup import SecurityGroupCleanup
from platform_constructs.emr.serverless import ServerlessCapacity, ServerlessFeatureRun, ServerlessLake
from platform_constructs.emr.transient import TransientFeatureRun
from platform_constructs.failure_alerts import FailureAlerts, failed_executions, key_tampering
from platform_constructs.log_retention import RETENTION_BY_DAYS
from platform_constructs.network import PRIVATE_SUBNET_GROUP
from platform_constructs.removal import data_removal_policy
from stacks import outputs
from stacks.base import PlatformStack

FeatureRun = TransientFeatureRun | ServerlessFeatureRun
"""Either engine of the scheduled feature run: a state machine of the same name and input."""

LOGS_PREFIX = DataLake.cluster_logs_prefix
SERVERLESS_LOGS_PREFIX = "emr/serverless-logs/"
"""Where EMR Serverless feature jobs write their logs in the artifacts bucket."""
CERTIFICATES_PREFIX = DataLake.certificates_prefix
"""Where the generated TLS certificate zips go in the artifacts bucket."""
SECURITY_GROUPS = {
    "primary": ("PrimarySecurityGroup", "EMR-managed: primary node"),
    "core": ("CoreSecurityGroup", "EMR-managed: core and task nodes"),
    "service_access": (
        "ServiceAccessSecurityGroup",
        "EMR-managed: the EMR service reaching nodes in private subnets",
    ),
}


class EmrStack(PlatformStack):
    """The EMR service, configured by the ``emr`` settings. Where clusters run
    (``emr.runs_clusters``): a security configuration
    (:class:`EmrSecurityConfiguration`) whose TLS certificates are made at deploy time
    (:class:`TlsCertificates`) unless ``emr.certificates_zip`` names the fork's own, the roles
    (:class:`EmrRoles`), the empty EMR-managed security groups clusters get in the VPC's private
    subnets (EMR writes their rules; :class:`SecurityGroupCleanup` revokes those that tie the
    groups together when the stack is deleted, after the long-running cluster), the shape every
    cluster shares, and, when ``emr.cluster.enabled``, the long-running cluster
    (:class:`LongRunningCluster`). Always: the feature step and the feature run on
    ``emr.feature_runs_on`` (:class:`ServerlessFeatureRun` or :class:`TransientFeatureRun`).
    Failed transient runs, failed steps on the long-running cluster, the platform's clusters
    terminating with errors and the disk key disabled or scheduled for deletion reach the alarm
    topic. Exposes ``security``, ``roles``, ``security_groups``, ``group_cleanup``, ``placement``
    (None or empty without clusters), ``feature_step`` (its code as assets; its spark-submit
    arguments are also a stack output), ``shape``, ``feature_run``, ``serverless``, ``alerts`` and
    ``cluster``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        vpc: ec2.IVpc,
        lake: DataLake,
        catalog: LakeCatalog,
        alarm_topic: sns.ITopic,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix=outputs.EMR,
            description="Data science platform: EMR security, roles, clusters, transient feature runs",
        )
        config = settings.emr
        removal_policy = data_removal_policy(self, destroy=settings.destroy_on_delete)
        routed = settings.network.interface_endpoints or settings.network.nat_gateways
        if config.feature_runs_on == "transient_cluster" and not routed:
            Annotations.of(self).add_warning_v2(
                "platform:emr-without-route",
                "Transient EMR runs cannot start here: the private subnets have neither interface "
                "endpoints nor NAT (set network.interface_endpoints: true, or emr.feature_runs_on: "
                "serverless).",
            )
        log_retention = RETENTION_BY_DAYS[config.log_retention_days]
        self.feature_step = FeatureStep(
            self,
            "FeatureStep",
            raw=lake.raw,
            curated=lake.curated,
            analytics=lake.analytics,
        )
        CfnOutput(
            self,
            "FeatureStepArguments",
            description="spark-submit arguments of the feature step; append --first-day yyyy-mm-dd",
            value=Fn.join(",", self.feature_step.arguments),
        )
        self.shape = ClusterShape(
            release_label=config.release_label,
            primary_type=config.primary_instance_type,
            core_types=tuple(config.core_instance_types),
            task_types=tuple(config.task_instance_types),
            task_spot_percent=config.task_spot_percent,
            min_units=config.cluster.min_units,
            max_units=config.cluster.max_units,
            step_concurrency=config.step_concurrency,
        )
        self.security: EmrSecurityConfiguration | None = None
        self.roles: EmrRoles | None = None
        self.security_groups: dict[str, ec2.ISecurityGroup] = {}
        self.group_cleanup: SecurityGroupCleanup | None = None
        self.placement: ClusterPlacement | None = None
        certificates: TlsCertificates | None = None
        if config.runs_clusters:  # an environment that never starts a cluster pays for none of this
            certificates = self._cluster_foundation(
                settings, vpc, lake, catalog, logs_key, log_retention, removal_policy
            )
        transient_name, long_running_name = (
            f"{settings.name_prefix}-features",
            f"{settings.name_prefix}-spark",
        )
        self.feature_run: FeatureRun
        if config.feature_runs_on == "serverless":
            self.serverless: ServerlessFeatureRun | None = ServerlessFeatureRun(
                self,
                "ServerlessRun",
                name=transient_name,
                release_label=config.release_label,
                capacity=ServerlessCapacity(
                    max_vcpu=config.serverless.max_vcpu,
                    max_memory_gb=config.serverless.max_memory_gb,
                    max_disk_gb=config.serverless.max_disk_gb,
                    idle_timeout=Duration.minutes(config.serverless.idle_timeout_minutes),
                ),
                step=self.feature_step,
                lake=ServerlessLake(
                    raw=lake.raw,
                    curated=lake.curated,
                    analytics=lake.analytics,
                    artifacts=lake.artifacts,
                    logs_prefix=SERVERLESS_LOGS_PREFIX,
                    key=lake.key,
                    databases=list(catalog.database_names.values()),
                ),
                step_timeout=Duration.minutes(config.step_timeout_minutes),
                logs_key=logs_key,
                log_retention=log_retention,
                # A VPC only where the job can reach AWS from it: the endpoints (or NAT) are there.
                vpc=vpc if routed else None,
                subnet_group=PRIVATE_SUBNET_GROUP,
                removal_policy=removal_policy,
            )
            self.feature_run = self.serverless
        else:
            self.serverless = None
            assert self.placement is not None  # transient runs are clusters: runs_clusters
            self.feature_run = TransientFeatureRun(
                self,
                "TransientRun",
                name=transient_name,
                shape=self.shape,
                step_arguments=self.feature_step.arguments,
                step_timeout=Duration.minutes(config.step_timeout_minutes),
                idle_timeout=Duration.seconds(config.cluster.idle_timeout_seconds),
                placement=self.placement,
                tags=settings.resource_tags,
                logs_key=logs_key,
                log_retention=log_retention,
                removal_policy=removal_policy,
            )
        CfnOutput(
            self,
            outputs.FEATURE_RUNS,
            value=self.feature_run.state_machine.state_machine_arn,
            description='Start a feature run: {"first_day": "yyyy-mm-dd", "last_day": "yyyy-mm-dd"}',
        )
        if self.serverless is not None:
            CfnOutput(
                self,
                outputs.FEATURE_APPLICATION,
                value=self.serverless.application.attr_application_id,
                description="The EMR Serverless application of the feature jobs",
            )
        self.cluster: LongRunningCluster | None = None
        if config.cluster.enabled:
            assert self.placement is not None and self.group_cleanup is not None
            self.cluster = LongRunningCluster(
                self,
                "LongRunning",
                name=long_running_name,
                shape=self.shape,
                idle_timeout_seconds=config.cluster.idle_timeout_seconds,
                generation=config.cluster.generation,
                placement=self.placement,
                log_key=lake.key,
            )
            self.group_cleanup.clean_after(self.cluster.cluster)
        alerts: dict[str, tuple[events.EventPattern, str]] = {}
        if self.security is not None:
            alerts["DiskKeyTampering"] = key_tampering([self.security.disk_key])
        if certificates is not None:
            alerts["CertificateKeyTampering"] = key_tampering([certificates.key])
        alerts |= {
            "TransientRunFailed": (
                failed_executions(self.feature_run.state_machine),
                "EMR feature run failed: execution <detail.name> is <detail.status>: "
                "<detail.executionArn> (a failed transient step terminates its cluster; an aborted or "
                "timed-out run leaves it to its idle timeout; a serverless job is cancelled)",
            ),
        }
        if self.serverless is not None:
            alerts["ServerlessJobFailed"] = (
                self.serverless.failed_jobs(),
                "EMR Serverless feature job failed: job run <detail.jobRunId> of application "
                "<detail.applicationId> is <detail.state> (logs: the artifacts bucket's "
                f"{SERVERLESS_LOGS_PREFIX} and the job log group)",
            )
        cluster_names: list[str | dict[str, str]] = []
        if self.serverless is None:
            cluster_names.append(transient_name)
        if self.cluster is not None:
            # The long-running cluster's name goes on with a fingerprint and generation.
            cluster_names.append({"prefix": f"{long_running_name}-"})
        if cluster_names:
            alerts["ClusterFailed"] = (
                events.EventPattern(
                    source=["aws.emr"],
                    detail_type=["EMR Cluster State Change"],
                    detail={"state": ["TERMINATED_WITH_ERRORS"], "name": cluster_names},
                ),
                "EMR cluster <detail.name> (<detail.clusterId>) terminated with errors: <detail.message>",
            )
        if self.cluster is not None:
            # A transient run's failed step already fails the run; steps on this cluster have no run.
            alerts["StepFailed"] = (
                events.EventPattern(
                    source=["aws.emr"],
                    detail_type=["EMR Step Status Change"],
                    detail={"state": ["FAILED"], "clusterId": [self.cluster.cluster.ref]},
                ),
                "EMR step <detail.name> failed on the long-running cluster <detail.clusterId>: "
                "<detail.message>",
            )
        self.alerts = FailureAlerts(self, "Alerts", topic=alarm_topic, alerts=alerts)

    def _cluster_foundation(
        self,
        settings: Settings,
        vpc: ec2.IVpc,
        lake: DataLake,
        catalog: LakeCatalog,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> TlsCertificates | None:
        """What every cluster of the platform runs on: the security configuration and its
        certificates, the roles, the EMR-managed security groups and their clean-up, and the
        placement; the generated certificates (None with a fork's own)."""
        config = settings.emr
        certificates_uri, certificates = config.certificates_zip, None
        if certificates_uri is None:
            certificates = TlsCertificates(
                self,
                "TlsCertificates",
                bucket=lake.artifacts,
                prefix=CERTIFICATES_PREFIX,
                vpc=vpc,
                subnets=ec2.SubnetSelection(subnet_group_name=PRIVATE_SUBNET_GROUP),
                logs_key=logs_key,
                log_retention=log_retention,
                validity_days=config.certificate_validity_days,
                rotation=config.certificate_rotation,
                key_admins=settings.security.key_admins,
                removal_policy=removal_policy,
            )
            certificates_uri = certificates.uri
        self.security = EmrSecurityConfiguration(
            self,
            "Security",
            data_key=lake.key,
            certificates_uri=certificates_uri,
            key_admins=settings.security.key_admins,
            removal_policy=removal_policy,
        )
        self.roles = EmrRoles(
            self,
            "Roles",
            raw=lake.raw,
            curated=lake.curated,
            analytics=lake.analytics,
            artifacts=lake.artifacts,
            logs_prefix=LOGS_PREFIX,
            read_prefixes=[CERTIFICATES_PREFIX],
            disk_key=self.security.disk_key,
            databases=list(catalog.database_names.values()),
        )
        if certificates is not None:
            certificates.allow_decrypt(self.roles.instance_role)
        elif config.certificates_zip is not None:
            bucket, key = config.certificates_zip.removeprefix("s3://").split("/", 1)
            self.roles.instance_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[f"arn:{self.partition}:s3:::{bucket}/{key}"]
                )
            )
        self.security_groups = {
            role: ec2.SecurityGroup(
                self, group_id, vpc=vpc, description=description, allow_all_outbound=False
            )
            for role, (group_id, description) in SECURITY_GROUPS.items()
        }
        for group in self.security_groups.values():
            Tags.of(group).add(*EMR_MANAGED_TAG)
        self._open_emr_paths()
        self.group_cleanup = SecurityGroupCleanup(
            self,
            "SecurityGroupCleanup",
            groups=list(self.security_groups.values()),
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.feature_step.grant_read(self.roles.instance_role)
        self.placement = ClusterPlacement(
            security_configuration=self.security.name,
            service_role=self.roles.service_role,
            instance_role=self.roles.instance_role,
            instance_profile=self.roles.instance_profile,
            subnets=vpc.select_subnets(subnet_group_name=PRIVATE_SUBNET_GROUP).subnets,
            security_groups=self.security_groups,
            log_uri=lake.artifacts.s3_url_for_object(LOGS_PREFIX),
        )
        return certificates

    def _open_emr_paths(self) -> None:
        """Outbound rules EMR does not add to custom managed groups: nodes to the VPC's endpoints
        and the S3 gateway (HTTPS), to each other; the service-access group to the nodes (8443),
        and the primary node to it (9443). EMR adds the inbound rules it needs."""
        groups = self.security_groups
        nodes, service = ("primary", "core"), groups["service_access"]
        for role in nodes:
            groups[role].add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS endpoints and S3"
            )
            for other in nodes:
                groups[role].add_egress_rule(
                    groups[other], ec2.Port.all_traffic(), f"Cluster traffic to {other}"
                )
            service.add_egress_rule(groups[role], ec2.Port.tcp(8443), f"EMR service to {role}")
        groups["primary"].add_egress_rule(service, ec2.Port.tcp(9443), "Primary to the EMR service")
        service.add_ingress_rule(groups["primary"], ec2.Port.tcp(9443), "Primary to the EMR service")
