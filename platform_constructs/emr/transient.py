"""A Step Functions state machine that runs the feature step on its own short-lived EMR cluster."""

from collections.abc import Mapping, Sequence

from aws_cdk import Aws, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from platform_constructs.emr.cluster import (
    APPLICATIONS,
    CONFIGURATIONS,
    EBS_GIB,
    SPOT_TIMEOUT_MINUTES,
    ClusterPlacement,
    ClusterShape,
)
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards
from platform_constructs.state_machines import logged_state_machine, own_role

Create = tasks.EmrCreateCluster
CLUSTER_ID = "$.cluster.ClusterId"


def _fleet(
    fleet_type: tasks.EmrCreateCluster.InstanceRoleType,
    types: Sequence[str],
    on_demand: int,
    spot: int = 0,
    *,
    spot_first: bool = False,
) -> tasks.EmrCreateCluster.InstanceFleetConfigProperty:
    volume = Create.VolumeSpecificationProperty(
        volume_size=Size.gibibytes(EBS_GIB), volume_type=Create.EbsBlockDeviceVolumeType.GP3
    )
    ebs = Create.EbsConfigurationProperty(
        ebs_optimized=True,
        ebs_block_device_configs=[Create.EbsBlockDeviceConfigProperty(volume_specification=volume)],
    )
    launch = None
    if spot_first:
        launch = Create.InstanceFleetProvisioningSpecificationsProperty(
            spot_specification=Create.SpotProvisioningSpecificationProperty(
                allocation_strategy=Create.SpotAllocationStrategy.CAPACITY_OPTIMIZED,
                timeout_action=Create.SpotTimeoutAction.SWITCH_TO_ON_DEMAND,
                timeout=Duration.minutes(SPOT_TIMEOUT_MINUTES),
            ),
            on_demand_specification=Create.OnDemandProvisioningSpecificationProperty(
                allocation_strategy=Create.OnDemandAllocationStrategy.LOWEST_PRICE
            ),
        )
    config = Create.InstanceTypeConfigProperty
    return Create.InstanceFleetConfigProperty(
        instance_fleet_type=fleet_type,
        target_on_demand_capacity=on_demand,
        target_spot_capacity=spot,
        instance_type_configs=[
            config(instance_type=name, weighted_capacity=1, ebs_configuration=ebs) for name in types
        ],
        launch_specifications=launch,
    )


class TransientFeatureRun(Construct):
    """A state machine: create an EMR cluster of ``shape`` (same security configuration, roles,
    fleets, metastore and Spark settings as the long-running one), run the feature step with
    ``step_arguments`` plus the execution input's ``first_day`` and ``last_day``, terminate the
    cluster. A step that fails or runs past ``step_timeout`` is caught and the cluster terminated
    before the execution fails. An execution stopped by hand (or past the machine's own timeout)
    runs no catch: its cluster ends the step and then terminates itself after ``idle_timeout``.
    Logs (all events, encrypted) and X-Ray tracing are on. Exposes ``state_machine`` and its name,
    ``state_machine_name`` (``name``: other stacks start it by name).

    Input: ``{"first_day": "yyyy-mm-dd", "last_day": "yyyy-mm-dd"}``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        shape: ClusterShape,
        step_arguments: Sequence[str],
        step_timeout: Duration,
        idle_timeout: Duration,
        placement: ClusterPlacement,
        tags: Mapping[str, str],
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name: name of the state machine and of the clusters it creates.
        :param shape: release, fleets and scaling (as the long-running cluster).
        :param step_arguments: ``spark-submit`` and its arguments, without the days.
        :param step_timeout: the step is abandoned (and the cluster terminated) after this long.
        :param idle_timeout: EMR terminates the cluster after this long without work.
        :param placement: security configuration, roles, subnets, security groups, log URI.
        :param tags: put on every cluster (and so its instances), for cost allocation.
        :param logs_key: encrypts the state machine's log group.
        :param log_retention: how long its logs are kept.
        :param removal_policy: of the log group; default RETAIN.
        """
        super().__init__(scope, construct_id)
        Fleet = Create.InstanceRoleType
        create = tasks.EmrCreateCluster(
            self,
            "CreateCluster",
            name=name,
            release_label=shape.release_label,
            applications=[Create.ApplicationConfigProperty(name=app) for app in APPLICATIONS],
            configurations=[
                Create.ConfigurationProperty(classification=c["Classification"], properties=c["Properties"])
                for c in CONFIGURATIONS
            ],
            instances=Create.InstancesConfigProperty(
                instance_fleets=[
                    _fleet(Fleet.MASTER, [shape.primary_type], 1),
                    _fleet(Fleet.CORE, shape.core_types, shape.min_units),
                    _fleet(Fleet.TASK, shape.task_types, *shape.task_start, spot_first=True),
                ],
                ec2_subnet_ids=placement.subnet_ids,
                emr_managed_master_security_group=placement.group_id("primary"),
                emr_managed_slave_security_group=placement.group_id("core"),
                service_access_security_group=placement.group_id("service_access"),
            ),
            managed_scaling_policy=Create.ManagedScalingPolicyProperty(
                compute_limits=Create.ManagedScalingComputeLimitsProperty(
                    unit_type=Create.ComputeLimitsUnitType.INSTANCE_FLEET_UNITS,
                    minimum_capacity_units=shape.min_units,
                    maximum_capacity_units=shape.max_units,
                    maximum_core_capacity_units=shape.min_units,
                    maximum_on_demand_capacity_units=shape.max_on_demand_units,
                )
            ),
            auto_termination_policy_idle_timeout=idle_timeout,
            step_concurrency_level=shape.step_concurrency,
            security_configuration=placement.security_configuration,
            service_role=placement.service_role,
            cluster_role=placement.instance_role,
            log_uri=placement.log_uri,
            visible_to_all_users=True,
            tags=dict(tags),
            integration_pattern=sfn.IntegrationPattern.REQUEST_RESPONSE,
            result_path="$.cluster",
        )
        # JSONata here: the days go into the step's argument list, where JSONPath cannot reach.
        step = tasks.EmrAddStep(
            self,
            "RunFeatureStep",
            query_language=sfn.QueryLanguage.JSONATA,
            cluster_id="{% $states.input.cluster.ClusterId %}",
            name="store-daily-features",
            jar="command-runner.jar",
            args=[
                *step_arguments,
                "--first-day",
                "{% $states.input.first_day %}",
                "--last-day",
                "{% $states.input.last_day %}",
            ],
            action_on_failure=tasks.ActionOnFailure.CONTINUE,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            task_timeout=sfn.Timeout.duration(step_timeout),
            outputs="{% $states.input %}",
        )
        terminate = self._terminate("TerminateCluster")
        terminate_after_failure = self._terminate("TerminateAfterFailure")
        failed = sfn.Fail(
            self, "FeatureRunFailed", cause="The feature step failed or timed out; cluster terminated"
        )
        step.add_catch(
            terminate_after_failure, outputs="{% $merge([$states.input, {'error': $states.errorOutput}]) %}"
        )
        terminate_after_failure.next(failed)
        create.add_catch(
            sfn.Fail(self, "ClusterNotCreated", cause="EMR did not accept the cluster"), result_path="$.error"
        )
        definition = create.next(step).next(terminate).next(sfn.Succeed(self, "Done"))

        self.state_machine_name = name
        self.state_machine = logged_state_machine(
            self,
            definition=definition,
            timeout=step_timeout.plus(Duration.hours(1)),  # cluster start and termination around the step
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            name=name,
        )
        clusters = Stack.of(self).format_arn(
            service="elasticmapreduce", resource="cluster", resource_name="*"
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(  # RunJobFlow with these policies attaches them to the new cluster
                actions=[
                    "elasticmapreduce:PutAutoTerminationPolicy",
                    "elasticmapreduce:PutManagedScalingPolicy",
                ],
                resources=[clusters],
            )
        )
        self._acknowledge(clusters)

    def _terminate(self, construct_id: str) -> tasks.EmrTerminateCluster:
        """Terminate the run's cluster, retrying throttling and transient API errors."""
        terminate = tasks.EmrTerminateCluster(
            self,
            construct_id,
            cluster_id=sfn.JsonPath.string_at(CLUSTER_ID),
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_path=sfn.JsonPath.DISCARD,
        )
        terminate.add_retry(
            errors=["States.ALL"], max_attempts=5, backoff_rate=2, interval=Duration.seconds(10)
        )
        return terminate

    def _acknowledge(self, clusters: str) -> None:
        """The role's wildcards: ``clusters`` (every cluster of the account), and CDK's own."""
        role = own_role(self.state_machine)
        stack = Stack.of(self)
        acknowledge_wildcards(
            role,
            reason="CDK's EMR tasks: RunJobFlow has no resource type and the cluster ID is only known "
            "at run time (clusters of this account); the EMR cleanup service-linked role; X-Ray and "
            "the log delivery actions, which take no resource.",
            resources=[
                "*",
                clusters,
                f"arn:{Aws.PARTITION}:iam::{stack.account}:role/aws-service-role/"
                "elasticmapreduce.amazonaws.com*/AWSServiceRoleForEMRCleanup*",
            ],
        )
        acknowledge_own_policy(role, "The state machine's own role: its EMR tasks, logs and traces only.")
