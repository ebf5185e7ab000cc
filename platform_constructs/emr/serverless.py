"""The feature step as an EMR Serverless job: an application that costs nothing between runs, a job
role, and a state machine that submits the job and waits for it."""

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_emrserverless as emrs
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from platform_constructs.emr.feature_step import FeatureStep
from platform_constructs.emr.roles import CATALOG_ACTIONS
from platform_constructs.lake_access import LakeAccessRole
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards
from platform_constructs.state_machines import logged_state_machine, own_role
from workloads.schema import RAW_STORES

SERVICE = "emr-serverless.amazonaws.com"
START_JOB_RUN = "emr-serverless:startJobRun.sync"
"""The Step Functions optimized integration that starts a job run and waits for its end."""
SYNC_RULE = "StepFunctionsGetEventsForEMRServerlessJobRule"
"""The EventBridge rule Step Functions manages in the account to learn a job run's end (``.sync``)."""
GLUE_METASTORE = (
    "spark.hadoop.hive.metastore.client.factory.class="
    "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
)
"""The Glue Data Catalog as Spark's metastore, as on the platform's clusters."""
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
FAILED_STATES = ["FAILED", "CANCELLED"]
"""Job run states that end a run without its features (a job past its timeout is CANCELLED)."""
START_SLACK = Duration.minutes(15)
"""Time the task allows beyond the job's own timeout: the application starting, the job queued."""


@dataclass(frozen=True)
class ServerlessCapacity:
    """The most an application holds at once, all workers together (``max_*``), and how long it
    stays started without jobs (``idle_timeout``)."""

    max_vcpu: int
    max_memory_gb: int
    max_disk_gb: int
    idle_timeout: Duration


@dataclass(frozen=True)
class ServerlessLake:
    """What the job reads and writes: the zones, where its logs go (``artifacts`` under
    ``logs_prefix``, encrypted with ``key``, the lake key) and the catalog ``databases``."""

    raw: s3.IBucket
    curated: s3.IBucket
    analytics: s3.IBucket
    artifacts: s3.IBucket
    logs_prefix: str
    key: kms.IKey
    databases: Sequence[str]


class ServerlessFeatureRun(Construct):
    """The feature step on EMR Serverless: a Spark application ``name`` on ``release_label``
    (arm64) that starts when a job is submitted and stops after ``capacity.idle_timeout`` idle, never
    holding more than ``capacity``, with no pre-initialized workers; in ``vpc``'s ``subnet_group`` behind
    its own security group (HTTPS out only) when given, else without a VPC. Every job run logs to the
    artifacts bucket (lake key) and to its own log group (``logs_key``, ``log_retention``).

    The job role (``job_role``) names every action: the raw store list and curated read, analytics
    read and write, the step's two code objects, its log prefix and log group, the catalog's
    databases; only EMR Serverless of this account, for this application, may assume it.

    The state machine ``name`` submits the job (``step``'s assets and arguments plus the input's
    days) with Step Functions' ``startJobRun.sync`` and waits for it. The job is cancelled by EMR
    Serverless after ``step_timeout``; a failed, cancelled or timed-out job fails the execution with
    a readable error. Exposes ``application``, ``application_name``, ``job_role``, ``log_group``,
    ``security_group`` (None without a VPC), ``state_machine``, ``state_machine_name``, and
    :meth:`failed_jobs`.

    Input: ``{"first_day": "yyyy-mm-dd", "last_day": "yyyy-mm-dd"}``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        release_label: str,
        capacity: ServerlessCapacity,
        step: FeatureStep,
        lake: ServerlessLake,
        step_timeout: Duration,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        vpc: ec2.IVpc | None = None,
        subnet_group: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name: of the application and of the state machine (other stacks start it by name).
        :param release_label: ``emr-7.x.y``, with the Spark of the step's tests.
        :param capacity: the application's limits and idle timeout.
        :param step: the feature step's code assets and arguments.
        :param lake: the zones, the log destination and the catalog databases.
        :param step_timeout: EMR Serverless cancels the job after this long.
        :param logs_key: encrypts the job's and the state machine's log groups.
        :param log_retention: how long those logs are kept.
        :param vpc: the VPC the job runs in, when it needs one (with ``subnets``).
        :param subnet_group: the subnets of ``vpc`` the workers get addresses in.
        :param removal_policy: of the log groups; default RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.log_group = logs.LogGroup(
            self, "JobLogs", encryption_key=logs_key, retention=log_retention, removal_policy=removal_policy
        )
        self.security_group: ec2.SecurityGroup | None = None
        network = None
        if vpc is not None:
            self.security_group = ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=vpc,
                description="EMR Serverless feature job: HTTPS to the VPC endpoints and S3 only",
                allow_all_outbound=False,
            )
            self.security_group.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS endpoints and S3"
            )
            network = emrs.CfnApplication.NetworkConfigurationProperty(
                subnet_ids=vpc.select_subnets(subnet_group_name=subnet_group).subnet_ids,
                security_group_ids=[self.security_group.security_group_id],
            )
        self.application = emrs.CfnApplication(
            self,
            "Application",
            name=name,
            type="SPARK",  # as the EMR Serverless user guide spells it (create-application --type SPARK)
            release_label=release_label,
            architecture="ARM64",
            auto_start_configuration=emrs.CfnApplication.AutoStartConfigurationProperty(enabled=True),
            auto_stop_configuration=emrs.CfnApplication.AutoStopConfigurationProperty(
                enabled=True, idle_timeout_minutes=int(capacity.idle_timeout.to_minutes())
            ),
            maximum_capacity=emrs.CfnApplication.MaximumAllowedResourcesProperty(
                cpu=f"{capacity.max_vcpu} vCPU",
                memory=f"{capacity.max_memory_gb} GB",
                disk=f"{capacity.max_disk_gb} GB",
            ),
            network_configuration=network,
            monitoring_configuration=emrs.CfnApplication.MonitoringConfigurationProperty(
                # No EncryptionKeyArn: the artifacts bucket encrypts the logs with the lake key by
                # default, written with the job role's grant. Naming a key here would make EMR
                # Serverless refuse any submitter without that key ("Encrypting logs", EMR
                # Serverless guide), and need the service principal in the lake key's policy.
                s3_monitoring_configuration=emrs.CfnApplication.S3MonitoringConfigurationProperty(
                    log_uri=lake.artifacts.s3_url_for_object(lake.logs_prefix),
                ),
                cloud_watch_logging_configuration=emrs.CfnApplication.CloudWatchLoggingConfigurationProperty(
                    enabled=True, log_group_name=self.log_group.log_group_name
                ),
                # Logs stay in this account only (the two above). Managed storage keeps a copy in
                # an AWS-owned place that the S3 gateway's endpoint policy (this account's buckets)
                # may not reach, and that the lake's keys and retention do not govern.
                managed_persistence_monitoring_configuration=(
                    emrs.CfnApplication.ManagedPersistenceMonitoringConfigurationProperty(enabled=False)
                ),
            ),
        )
        self.application_name = name
        self.job_role = self._job_role(step, lake)

        submit = sfn.CustomState(
            self,
            "RunFeatureJob",
            state_json={
                "Type": "Task",
                "QueryLanguage": "JSONata",
                "Resource": f"arn:{stack.partition}:states:::{START_JOB_RUN}",
                "Arguments": {
                    "ApplicationId": self.application.attr_application_id,
                    "ExecutionRoleArn": self.job_role.role_arn,
                    "ClientToken": "{% $uuid() %}",
                    "Name": "{% 'features ' & $states.input.first_day & '..' & $states.input.last_day %}",
                    "ExecutionTimeoutMinutes": int(step_timeout.to_minutes()),
                    "JobDriver": {
                        "SparkSubmit": {
                            "EntryPoint": step.script.s3_object_url,
                            "EntryPointArguments": [
                                *step.script_arguments,
                                "--first-day",
                                "{% $states.input.first_day %}",
                                "--last-day",
                                "{% $states.input.last_day %}",
                            ],
                            "SparkSubmitParameters": f"--py-files {step.modules.s3_object_url} "
                            f"--conf {GLUE_METASTORE}",
                        }
                    },
                },
                "Output": "{% $states.input %}",
                "TimeoutSeconds": int(step_timeout.plus(START_SLACK).to_seconds()),
            },
        )
        failed = sfn.Fail.jsonata(
            self,
            "FeatureRunFailed",
            error="FeatureJobFailed",
            cause="{% 'The EMR Serverless feature job failed, was cancelled or timed out (' & "
            "$states.input.Error & '): ' & $states.input.Cause %}",
        )
        submit.add_catch(failed)
        self.state_machine_name = name
        self.state_machine = logged_state_machine(
            self,
            definition=submit.next(sfn.Succeed.jsonata(self, "Done")),
            timeout=step_timeout.plus(START_SLACK).plus(Duration.minutes(15)),
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            name=name,
            jsonata=True,
        )
        self._grant_submit()

    def _job_role(self, step: FeatureStep, lake: ServerlessLake) -> LakeAccessRole:
        """The job's role: trusted by EMR Serverless of this account for this application only."""
        stack = Stack.of(self)
        role = LakeAccessRole(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal(SERVICE).with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    # the application, or one of its job runs: the guide does not say which
                    # EMR Serverless sends, so either of this application's is accepted
                    "ArnLike": {
                        "aws:SourceArn": [self.application.attr_arn, f"{self.application.attr_arn}/*"]
                    },
                }
            ),
            description="EMR Serverless feature job: its code, the lake zones it uses, its logs, the catalog",
        )
        role.read(lake.raw, f"{RAW_STORES.prefix}*")
        role.read(lake.curated)
        role.read_write(lake.analytics)
        role.read_write(lake.artifacts, f"{lake.logs_prefix}*")
        step.grant_read(role)
        role.use_catalog(CATALOG_ACTIONS, [*lake.databases, "default"])
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(LOG_ACTIONS), resources=[self.log_group.log_group_arn])
        )
        # EMR Serverless looks its log group up; DescribeLogGroups takes no resource.
        role.add_to_principal_policy(iam.PolicyStatement(actions=["logs:DescribeLogGroups"], resources=["*"]))
        role.acknowledge_wildcards(
            "The raw store list, curated objects (read), analytics objects (read, write: partitions are "
            "replaced), only the job log prefix of artifacts, tables of the platform's databases, the "
            "job's log streams; DescribeLogGroups, which has no resource type.",
            resources=[self.log_group.log_group_arn, "*"],
        )
        return role

    def _grant_submit(self) -> None:
        """What ``startJobRun.sync`` needs (Step Functions' "IAM policies for EMR Serverless"): start
        a run on this application, watch and cancel its runs, the managed rule, and pass the job role
        to EMR Serverless only."""
        stack = Stack.of(self)
        machine = self.state_machine
        application = self.application.attr_arn
        machine.add_to_role_policy(
            iam.PolicyStatement(actions=["emr-serverless:StartJobRun"], resources=[application])
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"],
                resources=[f"{application}/jobruns/*"],
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[stack.format_arn(service="events", resource="rule", resource_name=SYNC_RULE)],
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.job_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SERVICE}},
            )
        )
        role = own_role(machine)
        acknowledge_wildcards(
            role,
            reason="The runs of this application only (their IDs are known at run time); X-Ray and the "
            "log delivery actions, which take no resource.",
            resources=["*", f"{application}/jobruns/*"],
        )
        acknowledge_own_policy(role, "The state machine's own role: its EMR Serverless job, logs, traces.")

    def failed_jobs(self) -> events.EventPattern:
        """This application's job runs that failed or were cancelled (a timeout cancels)."""
        return events.EventPattern(
            source=["aws.emr-serverless"],
            detail_type=["EMR Serverless Job Run State Change"],
            detail={"state": FAILED_STATES, "applicationId": [self.application.attr_application_id]},
        )
