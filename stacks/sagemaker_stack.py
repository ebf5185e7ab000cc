"""SageMakerStack: forecast training, the model registry and the endpoint."""

from aws_cdk import CfnOutput
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.settings import Settings
from platform_constructs.athena import AthenaWorkgroup
from platform_constructs.catalog import LakeCatalog
from platform_constructs.data_lake import DataLake
from platform_constructs.failure_alerts import FailureAlerts, failed_executions, key_tampering
from platform_constructs.keys import rotating_key
from platform_constructs.log_retention import RETENTION_BY_DAYS
from platform_constructs.network import PRIVATE_SUBNET_GROUP
from platform_constructs.personal_data import PersonalDataStore
from platform_constructs.python_modules import ROOT
from platform_constructs.removal import data_removal_policy
from platform_constructs.sagemaker.deployment import ForecastDeployment
from platform_constructs.sagemaker.endpoint import ForecastEndpoint
from platform_constructs.sagemaker.forecasting import ForecastScoring, ScoringData
from platform_constructs.sagemaker.hosting import Hosting
from platform_constructs.sagemaker.image import scikit_learn_image
from platform_constructs.sagemaker.monitoring import EndpointAlarms
from platform_constructs.sagemaker.roles import SageMakerRole
from platform_constructs.sagemaker.training import ForecastTraining, TrainingData
from stacks import outputs
from stacks.base import PlatformStack, personal_data_store
from workloads.schema import STORE_DAILY_FEATURES, STORE_FORECASTS

ARTIFACTS_PREFIX = "sagemaker/forecast/"
"""Training output (``training/``) and spot checkpoints (``checkpoints/``) in the artifacts bucket."""
BASELINE_MODEL = ROOT / "workloads" / "sagemaker" / "baseline" / "model.joblib"
SERVING_CODE = ROOT / "workloads" / "sagemaker" / "inference.py"


class SageMakerStack(PlatformStack):
    """The SageMaker service, configured by the ``sagemaker`` settings: a model package group, the
    forecast endpoint (:class:`ForecastEndpoint`: serverless or instance-based with auto scaling and
    data capture into a bucket and key of their own, ``captures`` (:class:`PersonalDataStore`),
    which only ``security.personal_data_readers.captures`` may read, deleted after
    ``lake.personal_data_retention_days``; created once from a baseline model so the first
    deployment serves), the deploy
    state machine (:class:`ForecastDeployment`, started by approvals in the registry when
    ``approval`` is manual), the training state machine (:class:`ForecastTraining`, which
    deploys what it registers when ``approval`` is automatic) and the Forecast step
    (:class:`ForecastScoring`: the approved model scores a day into ``store_forecasts``; its drift
    alarm watches the recent WAPE through Athena). Jobs and instance-hosted models run
    in the VPC's private subnets in one security group that may only leave on HTTPS; everything
    they store is encrypted with the lake key. Failed runs, endpoint 5xx errors, slow answers
    (:class:`EndpointAlarms`) and the captures key disabled or scheduled for deletion reach the
    alarm topic. Exposes ``package_group``, ``model_role``, ``captures`` (None when serverless),
    ``endpoint``, ``endpoint_alarms``, ``deployment``, ``training``, ``scoring`` and ``alerts``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        vpc: ec2.IVpc,
        lake: DataLake,
        catalog: LakeCatalog,
        athena: AthenaWorkgroup,
        alarm_topic: sns.ITopic,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix=outputs.SAGEMAKER,
            description="Data science platform: SageMaker forecast training, model registry and endpoint",
        )
        config = settings.sagemaker
        removal_policy = data_removal_policy(self, destroy=settings.destroy_on_delete)
        log_retention = RETENTION_BY_DAYS[config.log_retention_days]
        name = settings.forecast_name
        image = scikit_learn_image(self)
        subnets = vpc.select_subnets(subnet_group_name=PRIVATE_SUBNET_GROUP).subnets
        security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="SageMaker training jobs and hosted models: HTTPS out only",
            allow_all_outbound=False,
        )
        security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3 and AWS endpoints"
        )

        self.package_group = sagemaker.CfnModelPackageGroup(
            self,
            "PackageGroup",
            model_package_group_name=name,
            model_package_group_description="Per-store daily revenue forecasts that passed the training gate",
        )
        self.package_group.apply_removal_policy(removal_policy)

        on_instances = config.endpoint.instances is not None
        self.model_role = SageMakerRole(
            self,
            "ModelRole",
            description="Hosts the forecast models",
            image=image,
            log_streams=SageMakerRole.log_streams(self, f"/aws/sagemaker/Endpoints/{name}", "*"),
            in_vpc=on_instances,
        )
        self.model_role.read(lake.artifacts, f"{ARTIFACTS_PREFIX}training/*")
        self.captures: PersonalDataStore | None = None
        if on_instances:  # serverless endpoints cannot capture
            key = rotating_key(
                self,
                "CapturesKey",
                description="Encrypts the requests and answers the forecast endpoint captures",
                alias=f"alias/{settings.name_prefix}-captures",
                admins=settings.security.key_admins,
                removal_policy=removal_policy,
            )
            self.captures = personal_data_store(
                self, "captures", settings=settings, key=key, lake=lake, removal_policy=removal_policy
            )
            self.captures.grant_write(self.model_role)
            # SageMaker asks an execution role that names a key for S3 output for kms:Encrypt too
            self.captures.key.grant(self.model_role, "kms:Encrypt")
            self.model_role.wildcard_resources.append(self.captures.bucket.arn_for_objects("*"))
        hosting = Hosting(
            endpoint_name=name,
            settings=config.endpoint,
            role=self.model_role,
            key=lake.key,
            subnet_ids=[subnet.subnet_id for subnet in subnets],
            security_group_ids=[security_group.security_group_id],
            captures=self.captures,
        )
        self.endpoint = ForecastEndpoint(
            self,
            "Endpoint",
            hosting=hosting,
            image=image,
            baseline_model=BASELINE_MODEL,
            serving_code=SERVING_CODE,
            logs_key=logs_key,
            log_retention=log_retention,
            tags=settings.resource_tags,
            removal_policy=removal_policy,
        )
        self.model_role.read_asset(self.endpoint.baseline)
        self.endpoint_alarms = EndpointAlarms(
            self,
            "EndpointAlarms",
            endpoint_name=name,
            latency_ms=config.endpoint.latency_alarm_ms,
            topic=alarm_topic,
        )
        self.model_role.acknowledge_wildcards(
            "Model artifacts of every training job under their prefix; new captured requests in "
            "the captures bucket; the endpoint's log streams; ECR's token, SageMaker's metric namespaces "
            "and the network interfaces SageMaker creates in the subnets, which take no resource ARN."
        )
        self.deployment = ForecastDeployment(
            self,
            "Deployment",
            name_prefix=name,
            hosting=hosting,
            package_group=name,
            on_approval=config.approval == "manual",
            alarm_topic=alarm_topic,
            tags=settings.resource_tags,
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.training = ForecastTraining(
            self,
            "Training",
            job_prefix=name,
            settings=config.training,
            approval=config.approval,
            image=image,
            data=TrainingData(
                bucket=lake.analytics,
                prefix=STORE_DAILY_FEATURES.prefix,
                output_bucket=lake.artifacts,
                output_prefix=ARTIFACTS_PREFIX,
                key=lake.key,
            ),
            subnets=subnets,
            security_group=security_group,
            package_group=name,
            deploy=self.deployment.state_machine if config.approval == "automatic" else None,
            tags=settings.resource_tags,
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.scoring = ForecastScoring(
            self,
            "Scoring",
            job_prefix=name,
            settings=config.forecast,
            max_wape=config.training.max_wape,
            image=image,
            data=ScoringData(
                analytics=lake.analytics,
                features_prefix=STORE_DAILY_FEATURES.prefix,
                forecasts_prefix=STORE_FORECASTS.prefix,
                models=lake.artifacts,
                models_prefix=f"{ARTIFACTS_PREFIX}training/",
                key=lake.key,
            ),
            subnets=subnets,
            security_group=security_group,
            package_group=name,
            athena=athena,
            database=catalog.database_names[STORE_FORECASTS.zone],
            alarm_topic=alarm_topic,
            tags=settings.resource_tags,
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.alerts = FailureAlerts(
            self,
            "Alerts",
            topic=alarm_topic,
            alerts={
                "TrainingFailed": (
                    failed_executions(self.training.state_machine),
                    "Forecast training failed: execution <detail.name> is <detail.status> "
                    "(<detail.error>: <detail.cause>): <detail.executionArn>",
                ),
                "ForecastFailed": (
                    failed_executions(self.scoring.state_machine),
                    "Forecast step failed: execution <detail.name> is <detail.status> "
                    "(<detail.error>: <detail.cause>): <detail.executionArn>",
                ),
                "DeploymentFailed": (
                    failed_executions(self.deployment.state_machine),
                    "Forecast deployment failed: execution <detail.name> is <detail.status> "
                    "(<detail.error>: <detail.cause>); the endpoint keeps its model: <detail.executionArn>",
                ),
            }
            | ({} if self.captures is None else {"CapturesKeyTampering": key_tampering([self.captures.key])}),
        )
        exported = {
            outputs.ENDPOINT: (name, "The forecast endpoint (invoke with application/json or text/csv)"),
            "ModelPackageGroup": (name, "Approve packages here to deploy them"),
            outputs.TRAINING: (self.training.state_machine.state_machine_arn, "Start to train"),
            outputs.FORECAST_RUNS: (
                self.scoring.state_machine.state_machine_arn,
                'Forecast a day: {"day": "yyyy-mm-dd"}',
            ),
            outputs.FORECASTS: (lake.analytics.s3_url_for_object(STORE_FORECASTS.prefix), "store_forecasts"),
            "DeployStateMachine": (self.deployment.state_machine.state_machine_arn, "Deploys one package"),
        }
        if self.captures is not None:
            exported["CapturesBucket"] = (
                self.captures.bucket.bucket_name,
                "Where the endpoint captures requests",
            )
        for output_id, (value, description) in exported.items():
            CfnOutput(self, output_id, value=value, description=description)
