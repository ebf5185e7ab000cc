"""The forecast endpoint: a baseline model so a fresh deployment serves, created once, never rolled back."""

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Acknowledgment, CustomResource, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from platform_constructs.keys import grant_for_aws_resources
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards
from platform_constructs.providers import WaitingProvider
from platform_constructs.python_modules import tarball_asset
from platform_constructs.sagemaker.hosting import SERVING_ENVIRONMENT, VARIANT, Hosting
from platform_constructs.sagemaker.image import FrameworkImage

HANDLER = "workloads/sagemaker/endpoint_bootstrap.py"
QUERY_INTERVAL = Duration.seconds(30)
TOTAL_TIMEOUT = Duration.minutes(55)
"""The provider framework's limit for creating or deleting the endpoint: an instance endpoint in a
VPC may take longer than a function's 15 minutes, and a custom resource gets at most an hour."""
SERVICE_TIMEOUT = Duration.hours(1)
"""How long CloudFormation waits for the resource (its maximum): past the framework's limit, so the
framework's answer, not CloudFormation's timeout, ends a wait."""
SCALE_COOLDOWN = Duration.minutes(5)
SCALING_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)
"""Application Auto Scaling's service-linked role for SageMaker variants (created on first use)."""


class ForecastEndpoint(Construct):
    """The endpoint named ``hosting.endpoint_name``, its log group (``/aws/sagemaker/Endpoints/ <name>``,
    encrypted, with retention) and, for a fresh deployment, a baseline: ``baseline_model`` packed with
    ``serving_code`` under ``code/`` into a reproducible asset, a model and a KMS endpoint config as
    ``hosting`` describes them. A custom resource on CDK's provider framework
    (:mod:`workloads.sagemaker.endpoint_bootstrap`) creates the endpoint from the baseline and waits
    until it serves, checking every :data:`QUERY_INTERVAL` for up to :data:`TOTAL_TIMEOUT` (deleting it
    with the stack waits the same way, and an endpoint already gone is fine); later stack updates never
    touch it, so a model the deploy state machine promoted stays in service whatever changes in the
    baseline or the settings (they apply at the next deployment). An instance endpoint gets target-
    tracking auto scaling on invocations per instance between the configured minimum and maximum.
    Exposes ``endpoint_name``, ``endpoint_arn``, ``baseline`` (the asset the model role must read),
    ``log_group`` and ``scaling`` (None when serverless). The baseline model and config are retained
    when replaced or deleted (they cost nothing): the endpoint may still use them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        hosting: Hosting,
        image: FrameworkImage,
        baseline_model: Path,
        serving_code: Path,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        tags: Mapping[str, str],
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param hosting: endpoint name, settings, role, key and network of every model it serves.
        :param image: the serving image.
        :param baseline_model: the ``model.joblib`` served until the first promotion.
        :param serving_code: the ``inference.py`` packed with it.
        :param logs_key: encrypts the log groups (the endpoint's and the bootstrap functions').
        :param log_retention: how long those logs are kept.
        :param tags: given to the endpoint when the custom resource creates it.
        :param removal_policy: of the log groups; default RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.endpoint_name = hosting.endpoint_name
        self.endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
            encryption_key=logs_key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        self.baseline = tarball_asset(
            self, "Baseline", files={"model.joblib": baseline_model, "code/inference.py": serving_code}
        )
        model = sagemaker.CfnModel(
            self,
            "BaselineModel",
            execution_role_arn=hosting.role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image.uri, model_data_url=self.baseline.s3_object_url, environment=SERVING_ENVIRONMENT
            ),
            vpc_config=_vpc_config(hosting),
            enable_network_isolation=hosting.on_instances or None,
        )
        model.node.add_dependency(hosting.role)  # the role's policy must exist before SageMaker checks it
        config = _endpoint_config(self, hosting, model.attr_model_name)
        for baseline in (model, config):
            # Replacing either must not delete what the endpoint may still run: until the first
            # promotion it serves the baseline, and UpdateEndpoint needs its current config.
            baseline.apply_removal_policy(RemovalPolicy.RETAIN)
        self._acknowledge_serverless(hosting, model)
        bootstrap = self._bootstrap(hosting, logs_key, log_retention, removal_policy)
        resource = CustomResource(
            self,
            "Endpoint",
            service_token=bootstrap.service_token,
            service_timeout=SERVICE_TIMEOUT,
            resource_type="Custom::SageMakerEndpoint",
            properties={
                "EndpointName": self.endpoint_name,
                "EndpointConfigName": config.attr_endpoint_config_name,
                "Tags": dict(tags),
            },
        )
        resource.node.add_dependency(self.log_group)
        self.scaling: appscaling.ScalableTarget | None = None
        instances = hosting.settings.instances
        if instances is not None:
            self.scaling = appscaling.ScalableTarget(
                self,
                "Scaling",
                service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
                resource_id=f"endpoint/{self.endpoint_name}/variant/{VARIANT}",
                scalable_dimension="sagemaker:variant:DesiredInstanceCount",
                min_capacity=instances.min_instances,
                max_capacity=instances.max_instances,
                role=iam.Role.from_role_arn(  # SageMaker targets always scale with this linked role
                    self,
                    "ScalingRole",
                    stack.format_arn(
                        service="iam",
                        region="",
                        resource="role",
                        resource_name=SCALING_ROLE,
                    ),
                ),
            )
            self.scaling.node.add_dependency(resource)
            self.scaling.scale_to_track_metric(
                "InvocationsPerInstance",
                target_value=instances.invocations_per_instance,
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
                scale_in_cooldown=SCALE_COOLDOWN,
                scale_out_cooldown=SCALE_COOLDOWN,
            )

    def _bootstrap(
        self,
        hosting: Hosting,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> WaitingProvider:
        """The provider behind the custom resource: it creates (or adopts) the endpoint, or deletes
        it, and waits for SageMaker across calls."""
        role = iam.Role(
            self,
            "BootstrapRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Creates the forecast endpoint once, deletes it with the stack, waits for both",
        )
        log_group = logs.LogGroup(
            self,
            "BootstrapLogs",
            encryption_key=logs_key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        provider = WaitingProvider(
            self,
            "Bootstrap",
            entry=HANDLER,
            description="Forecast endpoint custom resource",
            role=role,
            log_group=log_group,
            query_interval=QUERY_INTERVAL,
            total_timeout=TOTAL_TIMEOUT,
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        stack = Stack.of(self)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateEndpoint",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:AddTags",
                ],
                resources=[self.endpoint_arn],
            )
        )
        configs = stack.format_arn(service="sagemaker", resource="endpoint-config", resource_name="*")
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sagemaker:CreateEndpoint"], resources=[configs])
        )
        for key in hosting.keys:  # the endpoint config's storage and capture keys
            grant_for_aws_resources(key, role)
        log_group.grant_write(role)
        acknowledge_wildcards(
            role,
            reason="SageMaker writes config names into ARNs in lower case, so the baseline config's "
            "generated name cannot be matched exactly (configs of this account and region); the "
            "streams of the functions' own log group.",
            resources=[configs, log_group.log_group_arn],
        )
        acknowledge_own_policy(role, "The functions' own role: one endpoint, its key grant and its logs.")
        return provider

    def _acknowledge_serverless(self, hosting: Hosting, model: sagemaker.CfnModel) -> None:
        """A serverless model can neither join a VPC nor isolate its network (SageMaker refuses both)."""
        if hosting.on_instances:
            return
        reason = (
            "Serverless inference rejects VPC configs and network isolation; the instance-based "
            "endpoint of prod has both."
        )
        Validations.of(model).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-SM1", reason=reason),
            Acknowledgment(id="AwsSolutions::AwsSolutions-SM3", reason=reason),
            Acknowledgment(id="NIST.800.53.R5::NIST.800.53.R5-SageMakerModelInVPC", reason=reason),
            Acknowledgment(
                id="NIST.800.53.R5::NIST.800.53.R5-SageMakerModelNetworkIsolationEnabled", reason=reason
            ),
        )


def _vpc_config(hosting: Hosting) -> sagemaker.CfnModel.VpcConfigProperty | None:
    """The baseline model's VPC config: the private subnets on instances, none for serverless."""
    vpc = hosting.network().get("VpcConfig")
    if vpc is None:
        return None
    return sagemaker.CfnModel.VpcConfigProperty(
        subnets=vpc["Subnets"], security_group_ids=vpc["SecurityGroupIds"]
    )


def _endpoint_config(scope: Construct, hosting: Hosting, model_name: str) -> sagemaker.CfnEndpointConfig:
    """The baseline endpoint config, from the same description the deploy state machine uses."""
    config = hosting.endpoint_config(model_name)
    Config = sagemaker.CfnEndpointConfig
    variant = config["ProductionVariants"][0]
    serverless = variant.get("ServerlessConfig")
    capture = config.get("DataCaptureConfig")
    return Config(
        scope,
        "BaselineConfig",
        kms_key_id=config["KmsKeyId"],
        production_variants=[
            Config.ProductionVariantProperty(
                variant_name=variant["VariantName"],
                model_name=variant["ModelName"],
                instance_type=variant.get("InstanceType"),
                initial_instance_count=variant.get("InitialInstanceCount"),
                initial_variant_weight=variant.get("InitialVariantWeight"),
                serverless_config=None
                if serverless is None
                else Config.ServerlessConfigProperty(
                    memory_size_in_mb=serverless["MemorySizeInMB"],
                    max_concurrency=serverless["MaxConcurrency"],
                ),
            )
        ],
        data_capture_config=None
        if capture is None
        else Config.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=capture["InitialSamplingPercentage"],
            destination_s3_uri=capture["DestinationS3Uri"],
            kms_key_id=capture["KmsKeyId"],
            capture_options=[
                Config.CaptureOptionProperty(capture_mode=o["CaptureMode"]) for o in capture["CaptureOptions"]
            ],
            capture_content_type_header=Config.CaptureContentTypeHeaderProperty(
                csv_content_types=capture["CaptureContentTypeHeader"]["CsvContentTypes"],
                json_content_types=capture["CaptureContentTypeHeader"]["JsonContentTypes"],
            ),
        ),
    )
