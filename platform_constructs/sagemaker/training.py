"""The training state machine: train on the lake's features, gate on the metric, register the model."""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Arn, ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from config.settings import TrainingSettings
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards
from platform_constructs.python_modules import ROOT, tarball_asset, workload_modules
from platform_constructs.sagemaker.hosting import CONTENT_TYPES, RESPONSE_TYPES, SERVING_ENVIRONMENT
from platform_constructs.sagemaker.image import FrameworkImage
from platform_constructs.sagemaker.naming import RUN_ID, api_tags, run_name
from platform_constructs.sagemaker.roles import job_role, sagemaker_arn, sync_job_statements
from platform_constructs.state_machines import logged_state_machine, own_role
from workloads.sagemaker.contract import (
    EVALUATION_METRICS,
    HISTORY_METRICS,
    METRIC,
    NAIVE_METRIC,
    SERVING_CODE,
    metric_regex,
)

TRAIN_SCRIPT = "workloads/sagemaker/train.py"
CODE_CHANNEL = "code"
FEATURES_CHANNEL = "features"
METRIC_VARIABLES = dict(
    zip(
        ("wape", "naive_wape", "enough", "sale_days", "days_needed"),
        (*EVALUATION_METRICS, *HISTORY_METRICS),
        strict=True,
    )
)
"""The job's metrics (its metric definitions) and the state machine variables they are read into."""
SPOT_WAIT_FACTOR = 2
"""A spot job may wait for capacity up to this many times its runtime limit."""


@dataclass(frozen=True)
class TrainingData:
    """Where a training job reads and writes: the features (``bucket``, ``prefix``), the output
    and checkpoints (``output_bucket`` under ``output_prefix``), and ``key`` for output and volumes."""

    bucket: s3.IBucket
    prefix: str
    output_bucket: s3.IBucket
    output_prefix: str
    key: kms.IKey


class ForecastTraining(Construct):
    """A state machine that trains the forecast and decides what happens to the model.

    1. ``Train`` runs a SageMaker training job (``createTrainingJob.sync``) of ``train.py`` in
       script mode on the framework ``image``: the source (the script, its ``workloads`` imports
       and the serving code) as a reproducible ``.tar.gz`` asset delivered as an input channel, so
       the job runs with network isolation; the features channel; hyperparameters from
       ``settings``; output, checkpoints and volume encrypted with ``data.key``; private
       ``subnets`` with ``security_group``; inter-container encryption; the runtime limit; managed
       spot (with a checkpoint location and a wait limit) when ``settings.spot``.
    2. ``EnoughHistory`` reads the job's ``history:*`` metrics: when ``train.py`` found too little
       history to train (a young lake), the run ends in ``NotEnoughHistory``, a success whose
       output is ``{"trained": false, "note": "skipped: not enough history (N sale days, need M)..."}``.
       ``Gate`` reads the job's final ``validation:wape`` and ``validation:naive_wape`` (the
       seasonal naive forecast's WAPE on the same held-out rows) and registers the model only when
       its WAPE is at most ``settings.max_wape`` and at most ``1 - settings.min_improvement`` times
       the naive one; otherwise, or with a metric missing, the run fails (``ModelRejected``) with
       the values and the condition missed in its cause, and nothing is registered.
    3. ``Register`` adds a model package to ``package_group``: approved when ``approval`` is
       ``automatic`` (then ``Deploy`` runs the ``deploy`` state machine and waits for it),
       pending manual approval otherwise (approving it in the registry deploys it).

    Logs (all events, encrypted) and X-Ray tracing are on. Exposes ``state_machine`` (named
    ``<job_prefix>-training``, ``state_machine_name``: other stacks start it by name), ``role`` (the
    jobs' execution role) and ``source`` (the code asset).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job_prefix: str,
        settings: TrainingSettings,
        approval: str,
        image: FrameworkImage,
        data: TrainingData,
        subnets: list[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        package_group: str,
        deploy: sfn.IStateMachine | None,
        tags: Mapping[str, str],
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param job_prefix: training jobs are named ``<job_prefix>-<start time digits>``.
        :param settings: instance, limits, spot, hyperparameters and the gate.
        :param approval: ``automatic`` (register approved and deploy) or ``manual``.
        :param image: the scikit-learn framework image.
        :param data: features, output location and key.
        :param subnets: private subnets the jobs run in.
        :param security_group: the jobs' security group.
        :param package_group: name of the model package group.
        :param deploy: the deploy state machine, run after an automatic approval; None for manual.
        :param tags: given to every training job (a model package version takes its group's tags).
        :param logs_key: encrypts the state machine's log group.
        :param log_retention: how long its logs are kept.
        :param removal_policy: of the log group; default RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.source = tarball_asset(
            self,
            "Source",
            files={
                "train.py": ROOT / TRAIN_SCRIPT,
                **{name: ROOT / TRAIN_SCRIPT.replace("train.py", name) for name in SERVING_CODE},
                **{module: ROOT / module for module in workload_modules(TRAIN_SCRIPT)},
            },
        )
        self.role = job_role(
            self,
            "JobRole",
            description="Runs the forecast training jobs",
            image=image,
            log_group="/aws/sagemaker/TrainingJobs",
            job_prefix=job_prefix,
            source=self.source,
            key=data.key,
        )
        self.role.read(data.bucket, f"{data.prefix}*")
        self.role.read_write(data.output_bucket, f"{data.output_prefix}*")
        self.role.acknowledge_wildcards(
            "Features of every day, training output and checkpoints of every job under their prefixes; "
            "the jobs' log streams; ECR's token, SageMaker's metric namespaces and the network "
            "interfaces SageMaker creates in the subnets, which take no resource ARN."
        )

        train = sfn.CustomState(
            self,
            "Train",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:createTrainingJob.sync",
                "Arguments": self._job(job_prefix, settings, image, data, subnets, security_group, tags),
                "Assign": {
                    "job": "{% $states.result.TrainingJobName %}",
                    "artifacts": "{% $states.result.ModelArtifacts.S3ModelArtifacts %}",
                    **{
                        variable: "{% ($value := $states.result.FinalMetricDataList[MetricName='"
                        + metric
                        + "'].Value; $exists($value) ? $value : null) %}"
                        for variable, metric in METRIC_VARIABLES.items()
                    },
                },
            },
        )
        share = round(1 - settings.min_improvement, 6)  # of the naive WAPE the model's may reach
        margin = f"{settings.min_improvement * 100:g} %"
        # SageMaker reports final metrics as 32-bit floats (0.35 comes back as 0.3499999940395355):
        # messages and the registered metadata show them to the six places train.py prints.
        wape, naive = "$formatNumber($wape, '0.000000')", "$formatNumber($naive_wape, '0.000000')"
        rejected = sfn.Fail.jsonata(
            self,
            "Rejected",
            error="ModelRejected",
            cause=f"{{% 'Job ' & $job & ': ' & ("
            f"($wape = null or $naive_wape = null) ? '{METRIC} or {NAIVE_METRIC} was not reported' : "
            f"$wape > {settings.max_wape} ? '{METRIC} ' & {wape} & ' is above the gate "
            f"{settings.max_wape}' : '{METRIC} ' & {wape} & ' does not beat {NAIVE_METRIC} ' "
            f"& {naive} & ' by {margin}') & "
            "'; the model is not registered' %}",
        )
        register = tasks.CallAwsService.jsonata(
            self,
            "Register",
            service="sagemaker",
            action="createModelPackage",
            # SageMaker authorizes CreateModelPackage on the new version (model-package/<group>/<n>)
            # only, never on its group (Service Authorization Reference).
            iam_resources=[
                stack.format_arn(
                    service="sagemaker", resource="model-package", resource_name=f"{package_group}/*"
                ),
            ],
            parameters={
                "ModelPackageGroupName": package_group,
                "ModelApprovalStatus": "Approved" if approval == "automatic" else "PendingManualApproval",
                # No Tags: a version in a group takes the group's tags, and SageMaker refuses Tags
                # together with ModelPackageGroupName (CreateModelPackage API reference).
                "ModelPackageDescription": f"{{% 'Trained by ' & $job & '; {METRIC} ' & {wape} "
                f"& ', {NAIVE_METRIC} ' & {naive} %}}",
                "CustomerMetadataProperties": {
                    "training_job": "{% $job %}",
                    METRIC: f"{{% {wape} %}}",
                    NAIVE_METRIC: f"{{% {naive} %}}",
                },
                "InferenceSpecification": {
                    "Containers": [
                        {
                            "Image": image.uri,
                            "ModelDataUrl": "{% $artifacts %}",
                            "Environment": SERVING_ENVIRONMENT,
                        }
                    ],
                    "SupportedContentTypes": list(CONTENT_TYPES),
                    "SupportedResponseMIMETypes": list(RESPONSE_TYPES),
                },
            },
        )
        gate = sfn.Choice.jsonata(
            self,
            "Gate",
            comment=f"{METRIC} at most {settings.max_wape} and {margin} below {NAIVE_METRIC}",
        )
        gate.when(
            sfn.Condition.jsonata(
                f"{{% $wape != null and $naive_wape != null and $wape <= {settings.max_wape} "
                f"and $wape <= $naive_wape * {share} %}}"
            ),
            register,
        )
        gate.otherwise(rejected)
        history = sfn.Choice.jsonata(self, "EnoughHistory", comment="train.py trains nothing on a young lake")
        history.when(
            sfn.Condition.jsonata("{% $enough = 0 %}"),
            sfn.Succeed.jsonata(
                self,
                "NotEnoughHistory",
                comment="Not a failure: the lake is young; a later run with more sale days trains",
                outputs={
                    "trained": False,
                    "note": "{% 'skipped: not enough history (' & $string($sale_days) & ' sale days, need ' "
                    "& $string($days_needed) & '); job ' & $job %}",
                },
            ),
        )
        history.otherwise(gate)
        if deploy is not None:
            register.next(
                tasks.StepFunctionsStartExecution.jsonata(
                    self,
                    "Deploy",
                    state_machine=deploy,
                    integration_pattern=sfn.IntegrationPattern.RUN_JOB,
                    input=sfn.TaskInput.from_object(
                        {"model_package_arn": "{% $states.input.ModelPackageArn %}"}
                    ),
                )
            )
        else:
            register.next(
                sfn.Succeed.jsonata(
                    self,
                    "AwaitingApproval",
                    comment="Approving the package in the model registry deploys it",
                )
            )

        waiting = settings.max_runtime_minutes * (SPOT_WAIT_FACTOR if settings.spot else 1)
        self.state_machine_name = f"{job_prefix}-training"
        self.state_machine = logged_state_machine(
            self,
            definition=sfn.Chain.start(train).next(history),
            timeout=Duration.minutes(waiting).plus(
                Duration.hours(2)
            ),  # the job, then registering and deploying
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            name=self.state_machine_name,
            jsonata=True,
        )
        self._grant_training(job_prefix, package_group, deploy)

    def _job(
        self,
        job_prefix: str,
        settings: TrainingSettings,
        image: FrameworkImage,
        data: TrainingData,
        subnets: list[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        tags: Mapping[str, str],
    ) -> dict[str, object]:
        """``CreateTrainingJob`` arguments; the job name is made from the execution's start time."""
        runtime = settings.max_runtime_minutes * 60
        output = data.output_bucket.s3_url_for_object(data.output_prefix)
        hyperparameters = {
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": f"/opt/ml/input/data/{CODE_CHANNEL}/{self.source.s3_object_key}",
            "sagemaker_region": Aws.REGION,
            **settings.hyperparameters.model_dump(),
        }

        def channel(name: str, uri: str) -> dict[str, object]:
            source = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
            return {"ChannelName": name, "DataSource": {"S3DataSource": source}}

        job: dict[str, object] = {
            "TrainingJobName": run_name(job_prefix),
            "RoleArn": self.role.role_arn,
            "AlgorithmSpecification": {
                "TrainingImage": image.uri,
                "TrainingInputMode": "File",
                "MetricDefinitions": [
                    {"Name": name, "Regex": metric_regex(name)} for name in METRIC_VARIABLES.values()
                ],
            },
            # The toolkit parses each value as JSON, as the SageMaker SDK writes them.
            "HyperParameters": {key: json.dumps(value) for key, value in hyperparameters.items()},
            "InputDataConfig": [
                channel(FEATURES_CHANNEL, data.bucket.s3_url_for_object(data.prefix)),
                channel(CODE_CHANNEL, self.source.s3_object_url),
            ],
            "OutputDataConfig": {"S3OutputPath": f"{output}training/", "KmsKeyId": data.key.key_arn},
            "ResourceConfig": {
                "InstanceType": settings.instance_type,
                "InstanceCount": 1,
                "VolumeSizeInGB": settings.volume_size_gb,
                "VolumeKmsKeyId": data.key.key_arn,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": runtime},
            "VpcConfig": {
                "Subnets": [subnet.subnet_id for subnet in subnets],
                "SecurityGroupIds": [security_group.security_group_id],
            },
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
            "Tags": api_tags(tags),
        }
        if settings.spot:
            job["EnableManagedSpotTraining"] = True
            job["StoppingCondition"] = {
                "MaxRuntimeInSeconds": runtime,
                "MaxWaitTimeInSeconds": runtime * SPOT_WAIT_FACTOR,
            }
            job["CheckpointConfig"] = {"S3Uri": f"{{% '{output}checkpoints/' & {RUN_ID} & '/' %}}"}
        return job

    def _grant_training(self, job_prefix: str, package_group: str, deploy: sfn.IStateMachine | None) -> None:
        """What ``createTrainingJob.sync`` needs: the job, passing its role, and the managed rule
        Step Functions watches jobs with; tagging the jobs it creates (a package version
        takes its group's tags)."""
        stack = Stack.of(self)
        jobs = sagemaker_arn(self, "training-job", f"{job_prefix}-*")
        packages = sagemaker_arn(self, "model-package", f"{package_group}/*")
        for statement in sync_job_statements(self, "Training", job_prefix, self.role):
            self.state_machine.add_to_role_policy(statement)
        role = own_role(self.state_machine)
        deployments = []  # what CDK's StartExecution task grants: the deploy machine's executions
        if deploy is not None:
            machine = Arn.split(deploy.state_machine_arn, ArnFormat.COLON_RESOURCE_NAME).resource_name
            deployments.append(
                stack.format_arn(
                    service="states",
                    resource="execution",
                    resource_name=f"{machine}*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            )
        acknowledge_wildcards(
            role,
            reason="Training jobs are named at run time under the platform's prefix; packages get "
            "versions in the platform's group; executions of the deploy state machine are named at "
            "run time; X-Ray, the log delivery actions and ListTags (read by the .sync integration) take "
            "no resource.",
            resources=[
                jobs,
                packages,
                *deployments,
                "*",
            ],
        )
        acknowledge_own_policy(
            role, "The state machine's own role: its jobs, its package group, logs and traces."
        )
