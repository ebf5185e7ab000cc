"""The Forecast step: score the forecast row with the approved model into the lake, watch the drift."""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from config.settings import ForecastSettings
from platform_constructs.alarm_topic import topic_alarm
from platform_constructs.athena import AthenaWorkgroup
from platform_constructs.lake_access import LakeAccessRole
from platform_constructs.python_modules import ROOT, entry_modules, tarball_asset
from platform_constructs.sagemaker.image import FrameworkImage
from platform_constructs.sagemaker.naming import api_tags, run_name
from platform_constructs.sagemaker.roles import job_role, sagemaker_arn, sync_job_statements
from platform_constructs.state_machines import days_after, logged_state_machine, valid_day
from workloads.schema import RECENT_WAPE_SQL

SCRIPT = "workloads/sagemaker/forecast.py"
LOCAL = "/opt/ml/processing"
BOOTSTRAP = (
    "import glob,runpy,sys,tarfile;"
    f"tarfile.open(glob.glob('{LOCAL}/input/code/*')[0]).extractall('/tmp/code',filter='data');"
    "sys.path.insert(0,'/tmp/code');sys.argv[0]='forecast';"
    "runpy.run_module('workloads.sagemaker.forecast',run_name='__main__')"
)
"""The job's entry point: unpack the source asset and run the script as ``__main__`` (the image has
Python, not necessarily ``tar``); one ``ContainerEntrypoint`` item, at most 256 characters."""
SPARK_FILES = "part-"
"""How Spark names the data files of a partition (markers such as ``_WRITTEN`` start with ``_``)."""
METRICS_NAMESPACE = "DataSciencePlatform/Forecast"
"""Where the Forecast step puts ``RecentWAPE`` (dimension ``ModelPackageGroup``)."""
RECENT_WAPE = "RecentWAPE"


@dataclass(frozen=True)
class ScoringData:
    """Where the Forecast step reads and writes: the feature rows (``analytics`` under
    ``features_prefix``), the models the training jobs wrote (``models`` under ``models_prefix``),
    the forecasts (``analytics`` under ``forecasts_prefix``) and ``key`` for volumes and output."""

    analytics: s3.IBucket
    features_prefix: str
    forecasts_prefix: str
    models: s3.IBucket
    models_prefix: str
    key: kms.IKey


class ForecastScoring(Construct):
    """A state machine that forecasts one day with the approved model. Input ``{"day":
    "yyyy-mm-dd", "run_id": "..."}`` (``run_id`` defaults to the execution's name).

    1. ``NewestApproved`` finds the newest approved version of ``package_group`` (what the deploy
       machine serves); with none yet, it ends in ``NoApprovedModel``, a success whose output is
       ``{"forecast": false, "note": ...}``.
    2. ``FeaturesOfDay`` checks the day has feature rows (the Features step writes a day's forecast
       row on the run for the day before); without, the run fails in ``NoFeatures`` saying so.
    3. ``Score`` runs a SageMaker processing job of ``forecast.py`` on the framework ``image``: the
       source asset, the model's artifacts and the day's features as inputs, its output the day's
       partition of ``store_forecasts`` (``model-<version>.parquet``, replaced on a rerun), under
       ``data.key`` like its volume; network isolation, private ``subnets``, the runtime limit.
    4. ``RecentAccuracy`` queries the ``forecasts_vs_actuals`` view in ``athena``'s workgroup for
       the WAPE of the last ``settings.drift_window_days`` days with sales, and ``PublishAccuracy``
       puts it as ``RecentWAPE``; ``drift_alarm`` pages ``alarm_topic`` when it exceeds
       ``settings.drift_factor`` times the training gate's ``max_wape``.

    Logs (all events, encrypted) and X-Ray tracing are on. Exposes ``state_machine`` (named
    ``<job_prefix>-scoring``, ``state_machine_name``), ``role`` (the jobs' execution role),
    ``source`` and ``drift_alarm``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job_prefix: str,
        settings: ForecastSettings,
        max_wape: float,
        image: FrameworkImage,
        data: ScoringData,
        subnets: list[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        package_group: str,
        athena: AthenaWorkgroup,
        database: str,
        alarm_topic: sns.ITopic,
        tags: Mapping[str, str],
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param job_prefix: processing jobs are named ``<job_prefix>-<start time digits>``.
        :param settings: instance, limits and the drift alarm.
        :param max_wape: the training gate's WAPE, which the drift alarm multiplies.
        :param image: the scikit-learn framework image.
        :param data: features, models, forecasts and the key.
        :param subnets: private subnets the jobs run in.
        :param security_group: the jobs' security group.
        :param package_group: name of the model package group.
        :param athena: the workgroup the accuracy query runs in.
        :param database: the Glue database of the analytics zone (tables and views).
        :param alarm_topic: where the drift alarm goes.
        :param tags: given to every processing job.
        :param logs_key: encrypts the state machine's log group.
        :param log_retention: how long its logs are kept.
        :param removal_policy: of the log group; default RETAIN.
        """
        super().__init__(scope, construct_id)
        self._data = data
        self.source = tarball_asset(
            self, "Source", files={module: ROOT / module for module in entry_modules(SCRIPT)}
        )
        self.role = job_role(
            self,
            "JobRole",
            description="Runs the forecast processing jobs",
            image=image,
            log_group="/aws/sagemaker/ProcessingJobs",
            job_prefix=job_prefix,
            source=self.source,
            key=data.key,
        )
        self.role.read(data.analytics, f"{data.features_prefix}*")
        self.role.read(data.models, f"{data.models_prefix}*")
        self.role.read_write(data.analytics, f"{data.forecasts_prefix}*")
        self.role.acknowledge_wildcards(
            "Features of every day, every training job's model and the forecasts of every day under "
            "their prefixes; the jobs' log streams; ECR's token, SageMaker's metric namespaces and the "
            "network interfaces SageMaker creates in the subnets, which take no resource ARN."
        )

        stack = Stack.of(self)
        machine_role = LakeAccessRole(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="Runs the Forecast step: finds the approved model, scores, checks the accuracy",
        )
        self.state_machine_name = f"{job_prefix}-scoring"
        day = sfn.Pass.jsonata(
            self,
            "Day",
            assign={
                "day": "{% $exists($states.input.day) ? $string($states.input.day) : '' %}",
                "run_id": "{% $exists($states.input.run_id) ? $string($states.input.run_id) : "
                "$states.context.Execution.Name %}",
            },
        )
        valid = sfn.Choice.jsonata(self, "DayIsValid")
        bad_day = sfn.Fail.jsonata(
            self, "BadDay", error="BadInput", cause="{% 'day must be yyyy-mm-dd, got ' & $day %}"
        )
        newest = tasks.CallAwsService.jsonata(
            self,
            "NewestApproved",
            service="sagemaker",
            action="listModelPackages",
            iam_resources=["*"],  # ListModelPackages authorizes on no resource of the group
            parameters={
                "ModelPackageGroupName": package_group,
                "ModelApprovalStatus": "Approved",
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": 1,
            },
            # An Assign whose expression gives nothing fails the state: none approved is null here.
            assign={
                "package": "{% ($arn := $states.result.ModelPackageSummaryList[0].ModelPackageArn; "
                "$exists($arn) ? $arn : null) %}"
            },
        )
        approved = sfn.Choice.jsonata(self, "ModelApproved")
        no_model = sfn.Succeed.jsonata(
            self,
            "NoApprovedModel",
            comment="Not a failure: nothing has passed the training gate yet",
            outputs={
                "forecast": False,
                "note": f"{{% 'forecast skipped: no approved model in {package_group} yet' %}}",
            },
        )
        packages = sagemaker_arn(self, "model-package", f"{package_group}/*")
        describe = tasks.CallAwsService.jsonata(
            self,
            "ApprovedPackage",
            service="sagemaker",
            action="describeModelPackage",
            iam_resources=[packages],
            parameters={"ModelPackageName": "{% $package %}"},
            assign={
                "version": "{% $states.result.ModelPackageVersion %}",
                "model": "{% $states.result.InferenceSpecification.Containers[0].ModelDataUrl %}",
            },
        )
        features_of_day = f"'{data.features_prefix}sale_date=' & $day & '/'"
        """JSONata: the key prefix of the day's feature partition."""
        listed = tasks.CallAwsService.jsonata(
            self,
            "FeaturesOfDay",
            service="s3",
            action="listObjectsV2",
            iam_action="s3:ListBucket",
            iam_resources=[data.analytics.bucket_arn],
            parameters={
                "Bucket": data.analytics.bucket_name,
                "Prefix": f"{{% {features_of_day} & '{SPARK_FILES}' %}}",
                "MaxKeys": 1,
            },
        )
        has_features = sfn.Choice.jsonata(self, "HasFeatures")
        no_features = sfn.Fail.jsonata(
            self,
            "NoFeatures",
            error="NoFeatures",
            cause=f"{{% 'no {data.features_prefix.rstrip('/')} rows for ' & $day & ': the Features step "
            "writes the forecast row of a day on the run for the day before; run that first' %}",
        )
        score = sfn.CustomState(
            self,
            "Score",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:createProcessingJob.sync",
                "Arguments": self._job(
                    job_prefix, settings, image, subnets, security_group, tags, features_of_day
                ),
            },
        )
        first_day = days_after("day", -settings.drift_window_days)
        sql = json.dumps(RECENT_WAPE_SQL)  # a JSON string is a JSONata string literal
        query = sfn.CustomState(
            self,
            "RecentAccuracy",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{Aws.PARTITION}:states:::athena:startQueryExecution.sync",
                "Arguments": {
                    "QueryString": f"{{% $replace({sql}, '{{first_day}}', {first_day}) %}}",
                    "WorkGroup": athena.name,
                    "QueryExecutionContext": {"Catalog": "AwsDataCatalog", "Database": database},
                },
                "Assign": {"query": "{% $states.result.QueryExecution.QueryExecutionId %}"},
            },
        )
        workgroup = stack.format_arn(service="athena", resource="workgroup", resource_name=athena.name)
        results = tasks.CallAwsService.jsonata(
            self,
            "AccuracyResult",
            service="athena",
            action="getQueryResults",
            iam_resources=[workgroup],
            parameters={"QueryExecutionId": "{% $query %}", "MaxResults": 2},
            assign={
                "recent_wape": "{% ($value := $states.result.ResultSet.Rows[1].Data[0].VarCharValue; "
                "$exists($value) ? $number($value) : null) %}"
            },
        )
        has_accuracy = sfn.Choice.jsonata(self, "HasAccuracy")
        publish = sfn.CustomState(
            self,
            "PublishAccuracy",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{Aws.PARTITION}:states:::aws-sdk:cloudwatch:putMetricData",
                "Arguments": {
                    "Namespace": METRICS_NAMESPACE,
                    "MetricData": [
                        {
                            "MetricName": RECENT_WAPE,
                            "Dimensions": [{"Name": "ModelPackageGroup", "Value": package_group}],
                            "Value": "{% $recent_wape %}",
                            "Unit": "None",
                        }
                    ],
                },
            },
        )
        done = sfn.Succeed.jsonata(
            self,
            "Forecasted",
            outputs={
                "forecast": True,
                "day": "{% $day %}",
                "model_version": "{% $version %}",
                "recent_wape": "{% $recent_wape %}",
            },
        )
        day.next(valid)
        valid.when(valid_day("day"), newest)
        valid.otherwise(bad_day)
        newest.next(approved)
        approved.when(sfn.Condition.jsonata("{% $package != null %}"), describe).otherwise(no_model)
        describe.next(listed).next(has_features)
        has_features.when(sfn.Condition.jsonata("{% $states.input.KeyCount > 0 %}"), score)
        has_features.otherwise(no_features)
        score.next(query).next(results).next(has_accuracy)
        has_accuracy.when(sfn.Condition.jsonata("{% $recent_wape != null %}"), publish.next(done))
        has_accuracy.otherwise(done)

        self.state_machine = logged_state_machine(
            self,
            definition=day,
            timeout=Duration.minutes(settings.max_runtime_minutes + 60),  # the job's start, the query
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            name=self.state_machine_name,
            jsonata=True,
            role=machine_role,
        )
        self._grant(machine_role, job_prefix, packages, athena, database)
        self.drift_alarm = topic_alarm(
            self,
            "Drift",
            topic=alarm_topic,
            metric=cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=RECENT_WAPE,
                dimensions_map={"ModelPackageGroup": package_group},
                statistic="Maximum",
                period=Duration.days(1),
            ),
            threshold=round(max_wape * settings.drift_factor, 6),
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"Forecast drift: the WAPE of the last {settings.drift_window_days} days "
            f"is above {settings.drift_factor:g} x the training gate's {max_wape}; retrain or check the data",
        )

    def _job(
        self,
        job_prefix: str,
        settings: ForecastSettings,
        image: FrameworkImage,
        subnets: list[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        tags: Mapping[str, str],
        features_of_day: str,
    ) -> dict[str, object]:
        """``CreateProcessingJob`` arguments; the job name is made from the execution's start time."""
        data = self._data
        bucket = f"s3://{data.analytics.bucket_name}/"
        forecasts = f"{{% '{bucket}{data.forecasts_prefix}forecast_date=' & $day %}}"  # + the file name

        def source(name: str, uri: str) -> dict[str, object]:
            return {
                "InputName": name,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": f"{LOCAL}/input/{name}",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }

        return {
            "ProcessingJobName": run_name(job_prefix),
            "RoleArn": self.role.role_arn,
            "AppSpecification": {
                "ImageUri": image.uri,
                "ContainerEntrypoint": ["python3", "-c", BOOTSTRAP],
                "ContainerArguments": [
                    "--features",
                    f"{LOCAL}/input/features",
                    "--model",
                    f"{LOCAL}/input/model",
                    "--output",
                    f"{LOCAL}/output",
                    "--day",
                    "{% $day %}",
                    "--model-version",
                    "{% $string($version) %}",
                    "--run-id",
                    "{% $run_id %}",
                ],
            },
            "ProcessingInputs": [
                source("code", self.source.s3_object_url),
                source("model", "{% $model %}"),
                source("features", f"{{% '{bucket}' & {features_of_day} %}}"),
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "forecasts",
                        "S3Output": {
                            "S3Uri": forecasts,
                            "LocalPath": f"{LOCAL}/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ],
                "KmsKeyId": data.key.key_arn,
            },
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": settings.instance_type,
                    "VolumeSizeInGB": settings.volume_size_gb,
                    "VolumeKmsKeyId": data.key.key_arn,
                }
            },
            "NetworkConfig": {
                "EnableNetworkIsolation": True,
                "EnableInterContainerTrafficEncryption": True,
                "VpcConfig": {
                    "Subnets": [subnet.subnet_id for subnet in subnets],
                    "SecurityGroupIds": [security_group.security_group_id],
                },
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_minutes * 60},
            "Tags": api_tags(tags),
        }

    def _grant(
        self, role: LakeAccessRole, job_prefix: str, packages: str, athena: AthenaWorkgroup, database: str
    ) -> None:
        """What the state machine needs beyond its tasks' own grants: ``createProcessingJob.sync``
        (the job, passing its role, the managed rule Step Functions watches jobs with), the accuracy
        query (the workgroup, the catalog, the tables' data) and putting the metric."""
        data = self._data
        jobs = sagemaker_arn(self, "processing-job", f"{job_prefix}-*")
        statements = [
            *sync_job_statements(self, "Processing", job_prefix, self.role),
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            ),
        ]
        for statement in statements:
            role.add_to_principal_policy(statement)
        athena.grant_query(role, databases=[database])
        role.read(data.analytics, f"{data.features_prefix}*")
        role.read(data.analytics, f"{data.forecasts_prefix}*")
        role.acknowledge_wildcards(
            "Processing jobs are named at run time under the platform's prefix, package versions in "
            "the platform's group; the features and "
            "forecasts the accuracy query reads, its results and the analytics database's tables grow "
            "with the lake; listing model packages, ListTags (read by the .sync integration), "
            "PutMetricData (limited to its namespace), X-Ray and the log delivery actions take no resource.",
            resources=[jobs, packages, "*"],
        )
