"""The deploy state machine: put an approved model package into service on the forecast endpoint."""

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from platform_constructs.dead_letters import alarmed_dead_letters
from platform_constructs.keys import grant_for_aws_resources
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards
from platform_constructs.sagemaker.hosting import Hosting
from platform_constructs.sagemaker.naming import api_tags, run_name
from platform_constructs.sagemaker.roles import sagemaker_arn
from platform_constructs.state_machines import PollStates, logged_state_machine, own_role, poll_until

POLL = Duration.seconds(60)
PACKAGE_POLL = Duration.seconds(10)
PACKAGE_POLLS = 30
"""A package registered moments ago may still be ``Pending`` or ``InProgress``: check its status
this often, this far apart (five minutes), before the deployment fails."""
BUSY_RETRIES = 10
"""``UpdateEndpoint`` is refused while the endpoint is still creating or updating: retry this
often, a minute apart and more, before the deployment fails."""
IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack")


class ForecastDeployment(Construct):
    """A state machine that deploys one model package to the endpoint ``hosting`` describes.

    Input: ``{"model_package_arn": "..."}``. A package still being created (``Pending``,
    ``InProgress``, as right after registering) is checked every ``PACKAGE_POLL`` until it is
    ``Completed``, at most ``PACKAGE_POLLS`` times; ``Failed``, ``Deleting`` or still not complete
    then ends the run as ``PackageNotReady``. The package must be approved, complete and in
    ``package_group`` (anything else fails, nothing changes), and the newest approved version of
    the group: an older one ends the run as ``NotNewest`` without deploying, so an edit to an old
    approved version never rolls the endpoint back. Then it creates a model from the package (named
    ``<name_prefix>-<run id>``, run by ``hosting.role``) and an endpoint config of the same name
    (KMS key, variant, data capture as ``hosting`` says), both tagged with ``tags``, and updates the
    endpoint to it, retrying while the endpoint is busy; an instance endpoint keeps its scaled
    instance count through the update. It polls until the endpoint serves that config (or a later
    deployment's: ``Superseded``); an endpoint that fails or rolls back fails the run. When
    ``on_approval`` is set, an EventBridge rule starts it for every package of the group whose
    status is ``Approved`` after a change (a start it cannot make lands in a dead-letter queue that
    alarms on ``alarm_topic``). Logs (all events, encrypted) and X-Ray tracing are on.
    Exposes ``state_machine`` and ``approval_rule`` (or None).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        hosting: Hosting,
        package_group: str,
        on_approval: bool,
        alarm_topic: sns.ITopic,
        tags: Mapping[str, str],
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name_prefix: models and endpoint configs are named ``<name_prefix>-<digits>``.
        :param hosting: the endpoint and how its models run.
        :param package_group: the only model package group it deploys from.
        :param on_approval: start a deployment whenever a package of the group is approved.
        :param alarm_topic: where an approval that could not start a deployment is reported.
        :param tags: given to every model and endpoint config it creates.
        :param logs_key: encrypts the state machine's log group.
        :param log_retention: how long its logs are kept.
        :param removal_policy: of the log group; default RETAIN.
        """
        super().__init__(scope, construct_id)

        def arn(resource: str, name: str) -> str:
            return sagemaker_arn(self, resource, name)

        packages = arn("model-package", f"{package_group}/*")
        models, configs = arn("model", f"{name_prefix}-*"), arn("endpoint-config", f"{name_prefix}-*")
        endpoint = arn("endpoint", hosting.endpoint_name)

        describe_package = tasks.CallAwsService.jsonata(
            self,
            "DescribePackage",
            service="sagemaker",
            action="describeModelPackage",
            iam_resources=[packages],
            parameters={"ModelPackageName": "{% $states.input.model_package_arn %}"},
            assign={
                "package": "{% $states.result.ModelPackageArn %}",
                "name": run_name(name_prefix),
                "polls": 0,
            },
        )
        package_status = tasks.CallAwsService.jsonata(
            self,
            "PackageStatus",
            service="sagemaker",
            action="describeModelPackage",
            iam_resources=[packages],
            parameters={"ModelPackageName": "{% $package %}"},
            assign={"polls": "{% $polls + 1 %}"},
        )

        def package_failed(state: str, cause: str) -> sfn.IChainable:
            return sfn.Fail.jsonata(self, state, error="PackageNotReady", cause=cause)

        package_ready = poll_until(
            self,
            describe_package,
            package_status,
            names=PollStates(
                "WaitForPackage", "PackageComplete", "PackageReady", "PackageFailed", "PackageTooSlow"
            ),
            done="$states.input.ModelPackageStatus = 'Completed'",
            failed="$states.input.ModelPackageStatus in ['Failed', 'Deleting']",
            cause="$package & ' is ' & $states.input.ModelPackageStatus & ': ' & "
            "$string($states.input.ModelPackageStatusDetails)",
            too_slow=f"{{% $package & ' is still ' & $states.input.ModelPackageStatus & ' after "
            f"{PACKAGE_POLLS} checks {PACKAGE_POLL.to_seconds()} seconds apart' %}}",
            polls=PACKAGE_POLLS,
            interval=PACKAGE_POLL,
            end=package_failed,
        )
        not_approved = sfn.Fail.jsonata(
            self,
            "NotApproved",
            error="PackageNotDeployable",
            cause=f"{{% $states.input.ModelPackageArn & ' is ' & $states.input.ModelApprovalStatus & "
            f"' in group ' & $states.input.ModelPackageGroupName & '; only Approved packages of "
            f"{package_group} are deployed' %}}",
        )
        create_model = tasks.CallAwsService.jsonata(
            self,
            "CreateModel",
            service="sagemaker",
            action="createModel",
            iam_resources=[models],
            parameters={
                "ModelName": "{% $name %}",
                "ExecutionRoleArn": hosting.role.role_arn,
                "PrimaryContainer": {"ModelPackageName": "{% $package %}"},
                **hosting.network(),
                "Tags": api_tags(tags),
            },
            additional_iam_statements=[
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[hosting.role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                )
            ],
        )
        create_config = tasks.CallAwsService.jsonata(
            self,
            "CreateEndpointConfig",
            service="sagemaker",
            action="createEndpointConfig",
            iam_resources=[configs],
            parameters={
                "EndpointConfigName": "{% $name %}",
                **hosting.endpoint_config("{% $name %}"),
                "Tags": api_tags(tags),
            },
        )
        retained = {}
        if hosting.on_instances:  # keep the scaled instance count; take capture settings from the new config
            retained = {
                "RetainAllVariantProperties": True,
                "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DataCaptureConfig"}],
            }
        update = tasks.CallAwsService.jsonata(
            self,
            "UpdateEndpoint",
            service="sagemaker",
            action="updateEndpoint",
            iam_resources=[endpoint, configs],
            parameters={
                "EndpointName": hosting.endpoint_name,
                "EndpointConfigName": "{% $name %}",
                **retained,
            },
        )
        update.add_retry(
            errors=["States.TaskFailed"], interval=POLL, max_attempts=BUSY_RETRIES, backoff_rate=1.2
        )
        wait = sfn.Wait.jsonata(self, "WaitForEndpoint", time=sfn.WaitTime.duration(POLL))
        describe_endpoint = tasks.CallAwsService.jsonata(
            self,
            "DescribeEndpoint",
            service="sagemaker",
            action="describeEndpoint",
            iam_resources=[endpoint],
            parameters={"EndpointName": hosting.endpoint_name},
        )
        failed = sfn.Fail.jsonata(
            self,
            "DeploymentFailed",
            error="EndpointNotUpdated",
            cause="{% 'Endpoint ' & $states.input.EndpointName & ' is ' & $states.input.EndpointStatus & "
            "' serving ' & $states.input.EndpointConfigName & ' instead of ' & $name & ': ' & "
            "($exists($states.input.FailureReason) ? $states.input.FailureReason : 'rolled back') %}",
        )
        progress = sfn.Choice.jsonata(self, "InService")
        progress.when(
            sfn.Condition.jsonata(
                "{% $states.input.EndpointStatus = 'InService' "
                "and $states.input.EndpointConfigName = $name %}"
            ),
            sfn.Succeed.jsonata(self, "Deployed"),
        )
        progress.when(  # configs are named by start time: a later deployment took over, fine
            sfn.Condition.jsonata(
                "{% $states.input.EndpointStatus = 'InService' and "
                f"$substring($states.input.EndpointConfigName, 0, {len(name_prefix) + 1}) = '{name_prefix}-' "
                "and $states.input.EndpointConfigName > $name %}"
            ),
            sfn.Succeed.jsonata(self, "Superseded", comment="A later deployment now serves"),
        )
        progress.when(
            sfn.Condition.jsonata(f"{{% $states.input.EndpointStatus in {list(IN_PROGRESS)} %}}"), wait
        )
        progress.otherwise(failed)
        newest = tasks.CallAwsService.jsonata(
            self,
            "NewestApproved",
            service="sagemaker",
            action="listModelPackages",
            iam_resources=["*"],
            parameters={
                "ModelPackageGroupName": package_group,
                "ModelApprovalStatus": "Approved",
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": 1,
            },
        )
        is_newest = sfn.Choice.jsonata(self, "IsNewest")
        is_newest.when(
            sfn.Condition.jsonata(
                "{% $states.input.ModelPackageSummaryList[0].ModelPackageArn = $package %}"
            ),
            create_model.next(create_config).next(update).next(wait).next(describe_endpoint).next(progress),
        )
        is_newest.otherwise(
            sfn.Succeed.jsonata(
                self,
                "NotNewest",
                comment="A newer approved version exists: deploying this one would roll it back",
            )
        )
        approved = sfn.Choice.jsonata(self, "Approved")
        approved.when(
            sfn.Condition.jsonata(
                "{% $states.input.ModelApprovalStatus = 'Approved' and "
                "$states.input.ModelPackageStatus = 'Completed' and "
                f"$states.input.ModelPackageGroupName = '{package_group}' %}}"
            ),
            newest.next(is_newest),
        )
        approved.otherwise(not_approved)

        self.state_machine = logged_state_machine(
            self,
            definition=sfn.Chain.start(package_ready).next(approved),
            timeout=Duration.hours(2),
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            jsonata=True,
        )
        role = own_role(self.state_machine)
        for key in hosting.keys:  # the endpoint config's storage and capture keys
            grant_for_aws_resources(key, role)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[models, configs])
        )
        acknowledge_wildcards(
            role,
            reason="Packages of the platform's group; models and endpoint configs are named at run time "
            "under the platform's prefix; listing model packages, X-Ray and the log delivery actions "
            "take no resource.",
            resources=[packages, models, configs, "*"],
        )
        acknowledge_own_policy(
            role, "The state machine's own role: one endpoint, its models, configs and key."
        )

        self.approval_rule: events.Rule | None = None
        if on_approval:
            self.approval_rule = events.Rule(
                self,
                "OnApproval",
                description=f"Deploys every model package of {package_group} that is approved",
                event_pattern=events.EventPattern(
                    source=["aws.sagemaker"],
                    detail_type=["SageMaker Model Package State Change"],
                    detail={"ModelPackageGroupName": [package_group], "ModelApprovalStatus": ["Approved"]},
                ),
            )
            starter = iam.Role(
                self,
                "OnApprovalRole",
                assumed_by=iam.ServicePrincipal("events.amazonaws.com").with_conditions(
                    {"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}  # this account's rules
                ),
                description="Starts a deployment when a model package is approved",
            )
            self.approval_rule.add_target(
                targets.SfnStateMachine(
                    self.state_machine,
                    role=starter,
                    input=events.RuleTargetInput.from_object(
                        {"model_package_arn": events.EventField.from_path("$.detail.ModelPackageArn")}
                    ),
                    retry_attempts=3,
                    dead_letter_queue=alarmed_dead_letters(
                        self,
                        "OnApprovalDeadLetters",
                        topic=alarm_topic,
                        description="Forecast deployment: an approval could not start a deployment "
                        "(see the dead-letter queue)",
                    )[0],
                )
            )
            acknowledge_own_policy(starter, "The rule's own role: it may start this state machine only.")
