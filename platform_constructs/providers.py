"""Custom resources that wait on AWS longer than one Lambda invocation: CDK's provider framework."""

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from platform_constructs.lambda_functions import custom_resource_function
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards

HANDLER_TIMEOUT = Duration.minutes(1)
"""Each handler call only starts work or checks it once."""
OUTSIDE_VPC = (
    "It calls only AWS control planes (and CloudFormation's response URL), which dev's private "
    "subnets cannot reach (no NAT, no interface endpoints)."
)


class WaitingProvider(Construct):
    """A custom resource provider (``aws_cdk.custom_resources.Provider``) whose work may take up to
    ``total_timeout`` (at most an hour: CloudFormation waits no longer for a custom resource).

    ``on_event`` and ``is_complete`` of ``entry`` (a module path such as
    ``workloads/sagemaker/endpoint_bootstrap.py``) run as two functions with ``role``, logging to
    ``log_group``: the first starts the work and returns, the framework calls the second every
    ``query_interval`` until it answers ``IsComplete`` or the time is up. The framework's own
    functions log to an encrypted group with ``log_retention`` and run with roles of their own (no
    managed policy); its waiter state machine logs every event to another such group. Exposes
    ``service_token``, ``on_event`` and ``is_complete`` (the handler functions).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        entry: str,
        description: str,
        role: iam.IRole,
        log_group: logs.ILogGroup,
        query_interval: Duration,
        total_timeout: Duration,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param entry: the module with ``on_event`` and ``is_complete`` handlers.
        :param description: what the resource does (function descriptions).
        :param role: the handlers' role.
        :param log_group: the handlers' log group.
        :param query_interval: time between ``is_complete`` calls.
        :param total_timeout: when the framework gives up (a multiple of ``query_interval``).
        :param logs_key: encrypts the framework's log groups.
        :param log_retention: how long the framework's logs are kept.
        :param removal_policy: of the framework's log groups; default RETAIN.
        """
        super().__init__(scope, construct_id)
        self.on_event, self.is_complete = (
            custom_resource_function(
                self,
                name,
                entry=entry,
                handler=handler,
                description=f"{description} ({step})",
                timeout=HANDLER_TIMEOUT,
                role=role,
                log_group=log_group,
            )
            for name, handler, step in (
                ("OnEvent", "on_event", "starts the work"),
                ("IsComplete", "is_complete", "checks whether it is done"),
            )
        )

        def log_group_of(name: str) -> logs.LogGroup:
            return logs.LogGroup(
                self, name, encryption_key=logs_key, retention=log_retention, removal_policy=removal_policy
            )

        framework_logs, waiter_logs = log_group_of("FrameworkLogs"), log_group_of("WaiterLogs")
        roles = [
            iam.Role(
                self,
                name,
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"The provider framework's {what} function",
            )
            for name, what in (("OnEventRole", "start"), ("WaitRole", "is-complete and timeout"))
        ]
        for framework_role in roles:
            framework_logs.grant_write(framework_role)
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.on_event,
            is_complete_handler=self.is_complete,
            query_interval=query_interval,
            total_timeout=total_timeout,
            framework_on_event_role=roles[0],
            framework_complete_and_timeout_role=roles[1],
            log_group=framework_logs,
            framework_lambda_logging_level=lambda_.ApplicationLogLevel.INFO,
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=waiter_logs, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        self.service_token = provider.service_token
        self._acknowledge(provider, roles)

    def _acknowledge(self, provider: cr.Provider, roles: list[iam.Role]) -> None:
        """What the framework's functions, roles and waiter bring with them, on each of them."""
        framework = [
            provider.node.find_child(f"framework-{name}") for name in ("onEvent", "isComplete", "onTimeout")
        ]
        for function in (self.on_event, self.is_complete, *framework):
            Validations.of(function).acknowledge(
                Acknowledgment(id="NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC", reason=OUTSIDE_VPC)
            )
        for function in framework:
            Validations.of(function).acknowledge(
                Acknowledgment(
                    id="NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
                    reason="Only CloudFormation and the framework's waiter invoke it, synchronously; a "
                    "failure fails the deployment, so there is no lost event to queue.",
                ),
                Acknowledgment(
                    id="NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
                    reason="Invoked once per change of the resource and once per check; reserving "
                    "concurrency would fail deployment in accounts at the minimum concurrency quota.",
                ),
            )
        handlers = [f"{function.function_arn}:*" for function in (self.on_event, self.is_complete)]
        for framework_role in roles:
            acknowledge_wildcards(
                framework_role,
                reason="CDK's grant to invoke a handler covers its versions and aliases (<function>:*).",
                resources=handlers,
            )
            acknowledge_own_policy(
                framework_role, "The framework function's own role: invoke its handler, its waiter, its logs."
            )
        waiter = provider.node.find_child("waiter-state-machine")
        waiter_role = waiter.node.find_child("Role")
        assert isinstance(waiter_role, iam.Role)
        acknowledge_wildcards(
            waiter_role,
            reason="CDK's grant to invoke the framework's functions covers their versions; the log "
            "delivery actions of its logging take no resource.",
            resources=["*", *(f"{function.function_arn}:*" for function in framework[1:])],  # type: ignore[attr-defined]
        )
        acknowledge_own_policy(
            waiter_role, "The waiter's own role: invoke the framework's functions, its logs."
        )
        Validations.of(waiter).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SF2",
                reason="CDK's provider framework does not expose X-Ray tracing for its waiter; every "
                "event is logged to an encrypted log group instead.",
            )
        )
