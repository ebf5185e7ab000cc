"""SageMakerStack: the image mapping, training and its gate, the registry, deployment and the endpoint."""

from __future__ import annotations

import ast
import json
import struct
import tarfile
from pathlib import Path
from typing import Any

import botocore.session
from aws_cdk import App

from app import Platform
from config import sagemaker_image
from platform_constructs.lake_access import READ_ACTIONS
from platform_constructs.sagemaker.deployment import PACKAGE_POLL, PACKAGE_POLLS
from platform_constructs.sagemaker.hosting import SERVING_ENVIRONMENT, VARIANT
from platform_constructs.sagemaker.roles import VPC_ACTIONS
from stacks.sagemaker_stack import BASELINE_MODEL, SERVING_CODE
from tests.conftest import ROOT, Synthesized
from tests.unit.expressions import evaluate
from tests.unit.policies import as_list, lake_grants, role_statements
from tests.unit.references import operations_key, referenced
from tests.unit.test_data_lake_stack import KEY
from workloads.sagemaker.contract import (
    EVALUATION_METRICS,
    HISTORY_METRICS,
    METRIC,
    NAIVE_METRIC,
    metric_regex,
)
from workloads.sagemaker.endpoint_bootstrap import WAIT_LIMIT_SECONDS
from workloads.sagemaker.train import IMAGE_PYTHON
from workloads.schema import STORE_DAILY_FEATURES

STACK = "SageMaker"
S3_READ = {action for action in READ_ACTIONS if action.startswith("s3:")}
PACKAGE_GROUP = "PackageGroup"
MODEL, CONFIG = "EndpointBaselineModel3E2E8C2E", "EndpointBaselineConfig330C044D"
ENDPOINT = "Endpoint8024A810"
ON_EVENT, IS_COMPLETE = "EndpointBootstrapOnEvent09A945BB", "EndpointBootstrapIsCompleteE61EFA54"
FRAMEWORK = "EndpointBootstrapProviderframeworkonEvent963DFABA"
BOOTSTRAP_ROLE = "EndpointBootstrapRole993B58A9"
SCALING, SCALING_POLICY = "EndpointScalingE0B19612", "EndpointScalingInvocationsPerInstance900FFF9B"
TRAINING, DEPLOYMENT = "TrainingStateMachineEAE34FB3", "DeploymentStateMachineD161A8DF"
SCORING = "ScoringStateMachineE8EB195E"
TRAINING_ROLE, DEPLOYMENT_ROLE = "TrainingStateMachineRoleC2A5852B", "DeploymentStateMachineRoleAA790768"
JOB_ROLE, MODEL_ROLE = "TrainingJobRoleF750C0D4", "ModelRoleEE661428"
SECURITY_GROUP = "SecurityGroupDD263621"
CAPTURES, CAPTURES_KEY = "CapturesCB04CDCE", "CapturesKey091DF38E"
IMAGE_ACCOUNT = {"Fn::FindInMap": ["ScikitLearnImageRegistries", {"Ref": "AWS::Region"}, "Account"]}


def _definition(env: Synthesized, machine: str) -> dict[str, Any]:
    """A state machine's definition; each CloudFormation token reads ``TOKEN:<logical ID, output or
    pseudo parameter>``."""

    def token(part: dict[str, Any]) -> str:
        ((function, argument),) = part.items()
        if function == "Ref":
            return f"TOKEN:{argument}"
        if function == "Fn::GetAtt":
            return f"TOKEN:{argument[0]}"
        if function == "Fn::GetStackOutput":
            return f"TOKEN:{argument['OutputName']}"
        if function == "Fn::Sub":
            return str(argument)
        return f"TOKEN:{function}"

    parts = env.properties(STACK, machine)["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else token(part) for part in parts))  # type: ignore[no-any-return]


def test_image_uri_resolves_the_registry_per_region_from_the_generated_table(env: Synthesized) -> None:
    mapping = env.raw(STACK)["Mappings"]["ScikitLearnImageRegistries"]
    assert mapping == {region: {"Account": account} for region, account in sagemaker_image.REGISTRIES.items()}
    image = env.properties(STACK, MODEL)["PrimaryContainer"]["Image"]
    assert image == {
        "Fn::Join": [
            "",
            [
                IMAGE_ACCOUNT,
                ".dkr.ecr.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                f"/{sagemaker_image.REPOSITORY}:{sagemaker_image.TAG}",
            ],
        ]
    }


def test_training_job_runs_script_mode_isolated_encrypted_and_private(env: Synthesized) -> None:
    train = _definition(env, TRAINING)["States"]["Train"]
    assert train["Resource"] == "arn:TOKEN:AWS::Partition:states:::sagemaker:createTrainingJob.sync"
    job = train["Arguments"]
    config = env.settings.sagemaker.training
    assert job["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": name, "Regex": metric_regex(name)} for name in (*EVALUATION_METRICS, *HISTORY_METRICS)
    ]
    assert job["AlgorithmSpecification"]["TrainingImage"].endswith(
        f"/sagemaker-scikit-learn:{sagemaker_image.TAG}"
    )
    hyperparameters = {key: json.loads(value) for key, value in job["HyperParameters"].items()}
    assert hyperparameters["sagemaker_program"] == "train.py"
    assert hyperparameters["sagemaker_submit_directory"].startswith("/opt/ml/input/data/code/")
    assert {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")} == (
        config.hyperparameters.model_dump()
    )
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}
    assert channels["features"].endswith(f"/{STORE_DAILY_FEATURES.prefix}")
    code_key = hyperparameters["sagemaker_submit_directory"].rsplit("/", 1)[1]
    assert channels["code"].endswith(f"/{code_key}")  # the channel delivers the file the toolkit unpacks
    lake_key = "TOKEN:PublishOutputFnGetAttLakeKey7B6C155CArnA4980F47"
    assert job["OutputDataConfig"]["KmsKeyId"] == job["ResourceConfig"]["VolumeKmsKeyId"] == lake_key
    assert job["ResourceConfig"]["InstanceType"] == config.instance_type
    assert job["ResourceConfig"]["VolumeSizeInGB"] == config.volume_size_gb
    assert job["EnableNetworkIsolation"] is True and job["EnableInterContainerTrafficEncryption"] is True
    assert job["Tags"] == [{"Key": k, "Value": v} for k, v in sorted(env.settings.resource_tags.items())]
    assert job["VpcConfig"]["SecurityGroupIds"] == [f"TOKEN:{SECURITY_GROUP}"]
    assert all("PrivateSubnet" in subnet for subnet in job["VpcConfig"]["Subnets"])
    runtime = config.max_runtime_minutes * 60
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == runtime
    assert job.get("EnableManagedSpotTraining", False) is config.spot
    assert ("CheckpointConfig" in job) is config.spot
    if config.spot:
        assert job["StoppingCondition"]["MaxWaitTimeInSeconds"] >= runtime
        assert "/sagemaker/forecast/checkpoints/" in job["CheckpointConfig"]["S3Uri"]


def _training_source(env: Synthesized) -> Path:
    """The training job's source tarball in the cloud assembly."""
    job = _definition(env, TRAINING)["States"]["Train"]["Arguments"]
    key = json.loads(job["HyperParameters"]["sagemaker_submit_directory"]).rsplit("/", 1)[1]
    return env.outdir / f"asset.{key.split('.')[0]}.tar.gz"


def _baseline_bundle(env: Synthesized) -> Path:
    """The baseline model's tarball (model and serving code) in the cloud assembly."""
    url = env.properties(STACK, MODEL)["PrimaryContainer"]["ModelDataUrl"]["Fn::Sub"]
    return env.outdir / f"asset.{url.rsplit('/', 1)[1].split('.')[0]}.tar.gz"


def test_training_source_ships_the_script_its_imports_and_the_serving_code(env: Synthesized) -> None:
    with tarfile.open(_training_source(env)) as archive:
        names = set(archive.getnames())
        assert all(member.mtime == 0 and member.uid == 0 for member in archive.getmembers())
        shipped = archive.extractfile("train.py")
        assert shipped is not None and shipped.read() == (ROOT / "workloads/sagemaker/train.py").read_bytes()
    assert {"train.py", "inference.py", "workloads/sagemaker/contract.py"} <= names


def test_every_python_file_shipped_to_the_image_parses_with_the_image_python(env: Synthesized) -> None:
    """The scikit-learn image runs Python ``IMAGE_PYTHON``: syntax newer than that fails here,
    not in the training job or the endpoint."""
    shipped = 0
    for bundle in (_training_source(env), _baseline_bundle(env)):
        with tarfile.open(bundle) as archive:
            for member in archive.getmembers():
                if member.name.endswith(".py"):
                    source = archive.extractfile(member)
                    assert source is not None
                    ast.parse(source.read(), filename=member.name, feature_version=IMAGE_PYTHON)
                    shipped += 1
    assert shipped >= 4  # train.py, inference.py (twice), the contract


def test_too_little_history_ends_the_run_as_a_success_that_says_so(env: Synthesized) -> None:
    """train.py reports its history and trains nothing on a young lake: not a failure that pages."""
    states = _definition(env, TRAINING)["States"]
    assign = states["Train"]["Assign"]
    for variable, metric in zip(("enough", "sale_days", "days_needed"), HISTORY_METRICS, strict=True):
        assert f"MetricName='{metric}'" in assign[variable] and "null" in assign[variable]
    assert states["Train"]["Next"] == "EnoughHistory"
    (short,) = states["EnoughHistory"]["Choices"]
    assert short["Condition"] == "{% $enough = 0 %}"  # a missing metric (null) goes on to the gate
    skipped = states[short["Next"]]
    assert skipped["Type"] == "Succeed" and skipped["Output"]["trained"] is False
    assert "not enough history" in skipped["Output"]["note"] and "$days_needed" in skipped["Output"]["note"]
    assert states["EnoughHistory"]["Default"] == "Gate"


def _gate(env: Synthesized, reported: dict[str, float]) -> tuple[bool, str]:
    """Whether the training state machine registers a model whose job reported the final metrics
    ``reported``, and the cause it fails with otherwise: its JSONata, evaluated."""
    states = _definition(env, TRAINING)["States"]
    result = {
        "FinalMetricDataList": [{"MetricName": name, "Value": value} for name, value in reported.items()]
    }
    metrics = {
        variable: evaluate(states["Train"]["Assign"][variable], states={"result": result})
        for variable in ("wape", "naive_wape")
    }
    (choice,) = states["Gate"]["Choices"]
    rejected = states[states["Gate"]["Default"]]
    assert choice["Next"] == "Register" and rejected["Error"] == "ModelRejected"
    return bool(evaluate(choice["Condition"], **metrics)), evaluate(rejected["Cause"], job="job-1", **metrics)


def test_gate_registers_only_models_within_the_threshold_that_beat_the_seasonal_naive(
    env: Synthesized,
) -> None:
    """The gate reads both metrics the job reports: an absolute WAPE and the margin by which it beats
    the seasonal naive forecast on the same rows. Missing either rejects the model."""
    gate = env.settings.sagemaker.training
    limit, share = gate.max_wape, 1 - gate.min_improvement
    wape = limit * 0.9
    assert _gate(env, {METRIC: wape, NAIVE_METRIC: wape / share * 1.01})[0]
    registered, cause = _gate(env, {METRIC: wape, NAIVE_METRIC: wape / share * 0.99})
    assert not registered and f"does not beat {NAIVE_METRIC}" in cause and f"{wape:.4g}"[:4] in cause
    registered, cause = _gate(env, {METRIC: limit * 1.01, NAIVE_METRIC: 1.0})
    assert not registered and f"is above the gate {limit}" in cause
    for reported in ({METRIC: wape}, {NAIVE_METRIC: 1.0}, {}):
        registered, cause = _gate(env, reported)
        assert not registered and cause == (
            f"Job job-1: {METRIC} or {NAIVE_METRIC} was not reported; the model is not registered"
        )


def test_registration_approves_in_dev_and_waits_for_approval_in_prod(env: Synthesized) -> None:
    states = _definition(env, TRAINING)["States"]
    register = states["Register"]
    assert register["Resource"].endswith(":states:::aws-sdk:sagemaker:createModelPackage")
    arguments = register["Arguments"]
    assert arguments["ModelPackageGroupName"] == env.properties(STACK, PACKAGE_GROUP)["ModelPackageGroupName"]
    (container,) = arguments["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == "{% $artifacts %}" and container["Environment"] == SERVING_ENVIRONMENT
    assert set(arguments["CustomerMetadataProperties"]) == {"training_job", *EVALUATION_METRICS}
    # SageMaker's final metrics are 32-bit floats: the package shows them as train.py printed them.
    shown = arguments["CustomerMetadataProperties"][METRIC]
    single = struct.unpack("f", struct.pack("f", 0.35))[0]  # 0.3499999940395355
    assert evaluate(shown, wape=single) == "0.350000"
    automatic = env.settings.sagemaker.approval == "automatic"
    assert arguments["ModelApprovalStatus"] == ("Approved" if automatic else "PendingManualApproval")
    following = states[register["Next"]]
    if automatic:  # deploys at once and waits for the deployment
        assert following["Resource"].endswith(":states:::states:startExecution.sync:2")
        assert following["Arguments"]["StateMachineArn"] == f"TOKEN:{DEPLOYMENT}"
    else:
        assert following["Type"] == "Succeed"


def _unknown_members(shape: Any, value: Any, where: str) -> list[str]:
    """Where ``value`` (SDK call arguments) departs from botocore's ``shape``: unknown or missing
    required members of structures, recursively; JSONata expressions are not checked further."""
    if isinstance(value, str) and value.startswith("{%"):
        return []
    if shape.type_name == "structure" and isinstance(value, dict):
        problems = [f"{where}.{name}: unknown" for name in value if name not in shape.members]
        problems += [f"{where}.{name}: required" for name in shape.required_members if name not in value]
        for name, member in value.items():
            if name in shape.members:
                problems += _unknown_members(shape.members[name], member, f"{where}.{name}")
        return problems
    if shape.type_name == "list" and isinstance(value, list):
        return [
            p for i, item in enumerate(value) for p in _unknown_members(shape.member, item, f"{where}[{i}]")
        ]
    return []


def test_register_sends_no_tags_with_a_group_and_only_members_the_api_knows(env: Synthesized) -> None:
    """The CreateModelPackage reference: a package in a group "uses the tags associated with the
    model group. In this case, you cannot supply a tag argument." The group carries the tags."""
    arguments = _definition(env, TRAINING)["States"]["Register"]["Arguments"]
    assert arguments["ModelPackageGroupName"] and "Tags" not in arguments
    model = botocore.session.get_session().get_service_model("sagemaker")
    assert (
        _unknown_members(model.operation_model("CreateModelPackage").input_shape, arguments, "Register") == []
    )
    group = env.raw(STACK)["Resources"][PACKAGE_GROUP]["Properties"]
    assert {tag["Key"] for tag in group["Tags"]} >= set(env.settings.resource_tags)


def test_approval_in_the_registry_starts_a_deployment_only_in_manual_mode(env: Synthesized) -> None:
    rules = [
        rule["Properties"]
        for rule in env.resources(STACK, "AWS::Events::Rule").values()
        if rule["Properties"]["EventPattern"]["source"] == ["aws.sagemaker"]
    ]
    if env.settings.sagemaker.approval == "automatic":
        assert rules == []
        return
    (rule,) = rules
    assert rule["EventPattern"]["detail-type"] == ["SageMaker Model Package State Change"]
    assert rule["EventPattern"]["detail"] == {
        "ModelPackageGroupName": [env.properties(STACK, PACKAGE_GROUP)["ModelPackageGroupName"]],
        "ModelApprovalStatus": ["Approved"],
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": DEPLOYMENT}
    (queue,) = env.resources(STACK, "AWS::SQS::Queue")  # a start it cannot make is kept, and alarms
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
    assert target["InputTransformer"]["InputPathsMap"] == {
        "detail-ModelPackageArn": "$.detail.ModelPackageArn"
    }


def test_deployment_checks_approval_then_creates_model_config_and_updates_the_endpoint(
    env: Synthesized,
) -> None:
    states = _definition(env, DEPLOYMENT)["States"]
    order, name = [], "DescribePackage"
    while name in states and name not in order:
        order.append(name)
        state = states[name]
        name = state.get("Next") or (state.get("Choices") or [{}])[0].get("Next")
    assert order == [
        "DescribePackage",
        "WaitForPackage",
        "PackageStatus",
        "PackageComplete",
        "PackageReady",
        "Approved",
        "NewestApproved",
        "IsNewest",
        "CreateModel",
        "CreateEndpointConfig",
        "UpdateEndpoint",
        "WaitForEndpoint",
        "DescribeEndpoint",
        "InService",
        "Deployed",
    ]
    approved = states["Approved"]["Choices"][0]["Condition"]
    assert "'Approved'" in approved and "ModelPackageStatus = 'Completed'" in approved
    assert states[states["Approved"]["Default"]]["Type"] == "Fail"
    newest = states["NewestApproved"]["Arguments"]
    assert (newest["ModelApprovalStatus"], newest["SortBy"], newest["SortOrder"], newest["MaxResults"]) == (
        "Approved",
        "CreationTime",
        "Descending",
        1,
    )
    assert "= $package" in states["IsNewest"]["Choices"][0]["Condition"]
    assert states[states["IsNewest"]["Default"]]["Type"] == "Succeed"  # an older version: nothing deployed
    model = states["CreateModel"]["Arguments"]
    assert model["PrimaryContainer"] == {"ModelPackageName": "{% $package %}"}
    config = states["CreateEndpointConfig"]["Arguments"]
    assert config["KmsKeyId"] == "TOKEN:PublishOutputFnGetAttLakeKey7B6C155CArnA4980F47"
    (variant,) = config["ProductionVariants"]
    assert variant["ModelName"] == "{% $name %}" and variant["VariantName"] == VARIANT
    endpoint_name = env.properties(STACK, ENDPOINT)["EndpointName"]
    assert states["UpdateEndpoint"]["Arguments"]["EndpointName"] == endpoint_name
    assert states["UpdateEndpoint"]["Retry"][0]["MaxAttempts"] >= 5  # the endpoint may still be busy
    retained = states["UpdateEndpoint"]["Arguments"].get("RetainAllVariantProperties", False)
    assert retained is (env.settings.sagemaker.endpoint.instances is not None)  # keep the scaled count
    assert states[states["InService"]["Default"]]["Type"] == "Fail"  # failed or rolled back
    (superseded,) = [c for c in states["InService"]["Choices"] if c["Next"] == "Superseded"]
    assert "> $name" in superseded["Condition"]  # a later run's config in service is not a failure
    tags = [{"Key": k, "Value": v} for k, v in sorted(env.settings.resource_tags.items())]
    assert model["Tags"] == config["Tags"] == tags


def test_deployment_waits_a_bounded_time_for_a_package_still_being_created(env: Synthesized) -> None:
    """Register returns while the new version is ``Pending``/``InProgress``: the deployment polls
    DescribeModelPackage until ``Completed`` and fails, naming the package, on ``Failed``,
    ``Deleting`` or after its last check."""
    states = _definition(env, DEPLOYMENT)["States"]
    assert states["DescribePackage"]["Assign"]["polls"] == 0
    status = states["PackageStatus"]
    assert status["Resource"].endswith(":states:::aws-sdk:sagemaker:describeModelPackage")
    assert status["Arguments"] == {"ModelPackageName": "{% $package %}"}
    assert status["Assign"] == {"polls": "{% $polls + 1 %}"} and status["Next"] == "PackageComplete"
    assert states["WaitForPackage"]["Seconds"] == PACKAGE_POLL.to_seconds()
    choices = {choice["Next"]: choice["Condition"] for choice in states["PackageComplete"]["Choices"]}
    assert choices["PackageReady"] == "{% $states.input.ModelPackageStatus = 'Completed' %}"
    assert "['Failed', 'Deleting']" in choices["PackageFailed"]
    assert choices["PackageTooSlow"] == f"{{% $polls >= {PACKAGE_POLLS} %}}"
    assert states["PackageComplete"]["Default"] == "WaitForPackage"  # Pending, InProgress
    for ending in ("PackageFailed", "PackageTooSlow"):
        failure = states[ending]
        assert failure["Type"] == "Fail" and failure["Error"] == "PackageNotReady"
        assert "$package" in failure["Cause"] and "ModelPackageStatus" in failure["Cause"]
    assert str(PACKAGE_POLLS) in states["PackageTooSlow"]["Cause"]
    assert PACKAGE_POLLS * PACKAGE_POLL.to_seconds() < _definition(env, DEPLOYMENT)["TimeoutSeconds"] / 4
    model = botocore.session.get_session().get_service_model("sagemaker")
    assert set(model.shape_for("ModelPackageStatus").enum) == {
        "Pending",
        "InProgress",
        "Completed",
        "Failed",
        "Deleting",
    }


def test_endpoint_is_serverless_in_dev_and_on_private_isolated_instances_in_prod(env: Synthesized) -> None:
    endpoint = env.settings.sagemaker.endpoint
    (variant,) = env.properties(STACK, CONFIG)["ProductionVariants"]
    model = env.properties(STACK, MODEL)
    deployment = _definition(env, DEPLOYMENT)["States"]
    (deployed,) = deployment["CreateEndpointConfig"]["Arguments"]["ProductionVariants"]
    if endpoint.serverless is not None:
        expected = {
            "MemorySizeInMB": endpoint.serverless.memory_mb,
            "MaxConcurrency": endpoint.serverless.max_concurrency,
        }
        assert variant["ServerlessConfig"] == deployed["ServerlessConfig"] == expected
        # The serverless guide ("Create an endpoint configuration") takes an optional KmsKeyId,
        # with which SageMaker encrypts the image: accepted with a serverless variant, kept.
        config = deployment["CreateEndpointConfig"]["Arguments"]
        assert env.properties(STACK, CONFIG)["KmsKeyId"] and config["KmsKeyId"]
        assert "VpcConfig" not in model and "EnableNetworkIsolation" not in model  # serverless refuses both
        assert SCALING not in env.raw(STACK)["Resources"]
        return
    assert endpoint.instances is not None
    assert variant["InstanceType"] == deployed["InstanceType"] == endpoint.instances.instance_type
    assert (
        variant["InitialInstanceCount"]
        == deployed["InitialInstanceCount"]
        == endpoint.instances.min_instances
    )
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [SECURITY_GROUP, "GroupId"]}]
    assert all("PrivateSubnet" in json.dumps(subnet) for subnet in model["VpcConfig"]["Subnets"])
    network = deployment["CreateModel"]["Arguments"]
    assert network["EnableNetworkIsolation"] is True and network["VpcConfig"]["SecurityGroupIds"]


def test_instance_endpoint_scales_on_invocations_per_instance_within_config(prod: Synthesized) -> None:
    env, instances = prod, prod.settings.sagemaker.endpoint.instances
    assert instances is not None
    target = env.raw(STACK)["Resources"][SCALING]
    props = target["Properties"]
    name = env.properties(STACK, ENDPOINT)["EndpointName"]
    assert props["ResourceId"] == f"endpoint/{name}/variant/{VARIANT}"
    assert props["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (props["MinCapacity"], props["MaxCapacity"]) == (instances.min_instances, instances.max_instances)
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in json.dumps(props["RoleARN"])
    assert target["DependsOn"] == [ENDPOINT]  # registered once the endpoint serves
    policy = env.properties(STACK, SCALING_POLICY)["TargetTrackingScalingPolicyConfiguration"]
    assert (
        policy["PredefinedMetricSpecification"]["PredefinedMetricType"]
        == "SageMakerVariantInvocationsPerInstance"
    )
    assert policy["TargetValue"] == instances.invocations_per_instance


def test_data_capture_goes_to_its_own_bucket_and_key_on_instance_endpoints(env: Synthesized) -> None:
    config = env.properties(STACK, CONFIG)
    assert KEY in json.dumps(config["KmsKeyId"])
    instances = env.settings.sagemaker.endpoint.instances
    if instances is None:
        assert "DataCaptureConfig" not in config  # serverless endpoints cannot capture
        assert not env.resources(STACK, "AWS::S3::Bucket")
        return
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == instances.data_capture_percent
    assert capture["DestinationS3Uri"] == {"Fn::Join": ["", ["s3://", {"Ref": CAPTURES}]]}
    assert capture["KmsKeyId"] == {"Fn::GetAtt": [CAPTURES_KEY, "Arn"]}
    bucket = env.properties(STACK, CAPTURES)
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": [CAPTURES_KEY, "Arn"]
    }
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpirePersonalData"]["ExpirationInDays"] == env.settings.personal_data_retention_days
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    deployed = _definition(env, DEPLOYMENT)["States"]["CreateEndpointConfig"]["Arguments"][
        "DataCaptureConfig"
    ]
    assert deployed["InitialSamplingPercentage"] == instances.data_capture_percent


def test_endpoint_is_created_once_by_a_custom_resource_from_the_baseline(env: Synthesized) -> None:
    """No ``AWS::SageMaker::Endpoint``: CloudFormation cannot point the endpoint back at the
    baseline, so a later deploy never rolls back a promoted model (the handler's tests show an
    update leaves the endpoint alone)."""
    assert env.resources(STACK, "AWS::SageMaker::Endpoint") == {}
    resource = env.raw(STACK)["Resources"][ENDPOINT]
    assert resource["Type"] == "Custom::SageMakerEndpoint"
    assert resource["Properties"]["EndpointConfigName"] == {"Fn::GetAtt": [CONFIG, "EndpointConfigName"]}
    assert resource["Properties"]["Tags"] == env.settings.resource_tags
    for baseline in (MODEL, CONFIG):  # replaced or deleted, they stay: the endpoint may still use them
        kept = env.raw(STACK)["Resources"][baseline]
        assert (kept["DeletionPolicy"], kept["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_endpoint_resource_waits_on_the_provider_framework_within_cloudformation_s_hour(
    env: Synthesized,
) -> None:
    """Creating an instance endpoint in a VPC, or deleting one, may outlast a function's 15 minutes:
    the framework's waiter calls ``is_complete`` until done, and gives up (with an answer) before
    CloudFormation's limit for a custom resource (``ServiceTimeout``, at most 3600 s)."""
    resource = env.properties(STACK, ENDPOINT)
    assert resource["ServiceToken"] == {"Fn::GetAtt": [FRAMEWORK, "Arn"]}
    assert int(resource["ServiceTimeout"]) == 3600
    handlers = {
        env.properties(STACK, f)["Handler"]: env.properties(STACK, f) for f in (ON_EVENT, IS_COMPLETE)
    }
    assert set(handlers) == {
        "workloads.sagemaker.endpoint_bootstrap.on_event",
        "workloads.sagemaker.endpoint_bootstrap.is_complete",
    }
    assert all(function["Timeout"] <= 60 for function in handlers.values())  # no waiting inside a call
    waiters = [
        m["Properties"]
        for m in env.resources(STACK, "AWS::StepFunctions::StateMachine").values()
        if "framework-isComplete-task" in json.dumps(m["Properties"]["DefinitionString"])
    ]
    (waiter,) = waiters
    parts = waiter["DefinitionString"]["Fn::Join"][1]
    definition = json.loads("".join(part if isinstance(part, str) else "token" for part in parts))
    (retry,) = definition["States"]["framework-isComplete-task"]["Retry"]
    waited = retry["IntervalSeconds"] * retry["MaxAttempts"]
    assert 45 * 60 <= waited < 3600 and retry["BackoffRate"] == 1
    assert waited > WAIT_LIMIT_SECONDS  # the handler's own, readable limit comes first
    assert waiter["LoggingConfiguration"]["Level"] == "ALL"
    framework = env.properties(STACK, FRAMEWORK)
    assert framework["LoggingConfig"]["LogGroup"]["Ref"] in env.resources(STACK, "AWS::Logs::LogGroup")
    assert not env.properties(STACK, framework["Role"]["Fn::GetAtt"][0]).get("ManagedPolicyArns")


def test_baseline_model_is_the_committed_bundle_with_the_current_serving_code(env: Synthesized) -> None:
    with tarfile.open(_baseline_bundle(env)) as archive:
        assert sorted(archive.getnames()) == ["code/inference.py", "model.joblib"]
        contents = {name: archive.extractfile(name) for name in archive.getnames()}
        assert contents["model.joblib"].read() == BASELINE_MODEL.read_bytes()  # type: ignore[union-attr]
        assert contents["code/inference.py"].read() == SERVING_CODE.read_bytes()  # type: ignore[union-attr]
    assert env.properties(STACK, MODEL)["PrimaryContainer"]["Environment"] == SERVING_ENVIRONMENT


def test_model_package_group_is_named_for_the_environment(env: Synthesized) -> None:
    group = env.raw(STACK)["Resources"][PACKAGE_GROUP]
    assert group["Properties"]["ModelPackageGroupName"] == f"{env.settings.name_prefix}-forecast"
    expected = "Delete" if env.settings.destroy_on_delete else "Retain"
    assert group["DeletionPolicy"] == expected


def test_whoever_creates_endpoint_configs_may_grant_the_storage_and_capture_keys_to_sagemaker(
    env: Synthesized,
) -> None:
    captures = [CAPTURES_KEY] if env.settings.sagemaker.endpoint.instances is not None else []
    for role in (DEPLOYMENT_ROLE, BOOTSTRAP_ROLE):
        grants = [s for s in role_statements(env, STACK, role) if "kms:CreateGrant" in as_list(s["Action"])]
        assert all(s["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}} for s in grants)
        keys = {json.dumps(r) for s in grants for r in as_list(s["Resource"])}
        assert len(keys) == 1 + len(captures) and KEY in str(keys), role
        assert all(any(key in k for k in keys) for key in captures), role


def test_job_role_reads_features_writes_its_prefix_and_pulls_only_its_image(env: Synthesized) -> None:
    grants = lake_grants(env, STACK, JOB_ROLE)
    assert set(grants) == {"analytics", "artifacts"}
    assert grants["analytics"] == (S3_READ, {"", f"/{STORE_DAILY_FEATURES.prefix}*"})
    assert grants["artifacts"][1] == {"", "/sagemaker/forecast/*"}
    statements = role_statements(env, STACK, JOB_ROLE)
    pulls = [s for s in statements if "ecr:BatchGetImage" in as_list(s["Action"])]
    (pull,) = pulls
    assert "repository/sagemaker-scikit-learn" in json.dumps(pull["Resource"])
    assert IMAGE_ACCOUNT in pull["Resource"]["Fn::Join"][1]
    (grants,) = [s for s in statements if "kms:CreateGrant" in as_list(s["Action"])]
    assert as_list(grants["Action"]) == ["kms:CreateGrant"]  # the condition key exists for grants only
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    (listing,) = [s for s in statements if s["Action"] == "s3:ListBucket" and "Condition" in s]
    code_key = _definition(env, TRAINING)["States"]["Train"]["Arguments"]["InputDataConfig"][1]
    assert (
        listing["Condition"]["StringEquals"]["s3:prefix"] in code_key["DataSource"]["S3DataSource"]["S3Uri"]
    )
    assert any(set(VPC_ACTIONS) <= set(as_list(s["Action"])) for s in statements)
    assert not [s for s in statements if any(a.endswith(":*") or a == "*" for a in as_list(s["Action"]))]


def test_model_role_reads_artifacts_and_writes_only_captures(env: Synthesized) -> None:
    grants = lake_grants(env, STACK, MODEL_ROLE)
    on_instances = env.settings.sagemaker.endpoint.instances is not None
    assert grants["artifacts"] == (S3_READ, {"", "/sagemaker/forecast/training/*"})
    assert "raw" not in grants  # captures have a bucket of their own
    statements = role_statements(env, STACK, MODEL_ROLE)
    puts = [s["Resource"] for s in statements if s["Action"] == "s3:PutObject"]
    assert puts == ([{"Fn::Join": ["", [{"Fn::GetAtt": [CAPTURES, "Arn"]}, "/*"]]}] if on_instances else [])
    assert any(set(VPC_ACTIONS) <= set(as_list(s["Action"])) for s in statements) is on_instances


def test_state_machine_roles_pass_only_their_execution_roles(env: Synthesized) -> None:
    for machine_role, passed in ((TRAINING_ROLE, JOB_ROLE), (DEPLOYMENT_ROLE, MODEL_ROLE)):
        statements = role_statements(env, STACK, machine_role)
        (pass_role,) = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
        assert pass_role["Resource"] == {"Fn::GetAtt": [passed, "Arn"]}
        assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    training = role_statements(env, STACK, TRAINING_ROLE)
    (jobs,) = [s for s in training if "sagemaker:CreateTrainingJob" in as_list(s["Action"])]
    assert "training-job/" + env.properties(STACK, PACKAGE_GROUP)[
        "ModelPackageGroupName"
    ] + "-*" in json.dumps(jobs["Resource"])


def test_bootstrap_may_only_create_describe_and_delete_its_endpoint(env: Synthesized) -> None:
    statements = role_statements(env, STACK, BOOTSTRAP_ROLE)
    sagemaker = [s for s in statements if any(a.startswith("sagemaker:") for a in as_list(s["Action"]))]
    name = env.properties(STACK, ENDPOINT)["EndpointName"]
    actions = {a for s in sagemaker for a in as_list(s["Action"])}
    assert actions == {
        "sagemaker:CreateEndpoint",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:AddTags",
    }
    assert f"endpoint/{name}" in json.dumps(sagemaker[0]["Resource"])


def test_logs_are_encrypted_kept_and_failures_alarm(env: Synthesized) -> None:
    for group in env.resources(STACK, "AWS::Logs::LogGroup").values():
        assert referenced(env, STACK, group["Properties"]["KmsKeyId"]) == operations_key(env)
        assert group["Properties"]["RetentionInDays"] == env.settings.sagemaker.log_retention_days
    name = env.properties(STACK, ENDPOINT)["EndpointName"]
    assert any(
        g["Properties"].get("LogGroupName") == f"/aws/sagemaker/Endpoints/{name}"
        for g in env.resources(STACK, "AWS::Logs::LogGroup").values()
    )
    for machine in (TRAINING, DEPLOYMENT, SCORING):
        assert env.properties(STACK, machine)["TracingConfiguration"] == {"Enabled": True}
    alarmed = {
        rule["Properties"]["EventPattern"]["detail"]["stateMachineArn"][0]["Ref"]
        for rule in env.resources(STACK, "AWS::Events::Rule").values()
        if rule["Properties"]["EventPattern"]["source"] == ["aws.states"]
    }
    assert alarmed == {TRAINING, DEPLOYMENT, SCORING}


def test_security_group_only_leaves_on_https(env: Synthesized) -> None:
    egress = env.properties(STACK, SECURITY_GROUP)["SecurityGroupEgress"]
    assert [(rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in egress] == [("tcp", 443, 443)]


def test_disabled_sagemaker_leaves_the_stack_out(services_off: tuple[App, Platform]) -> None:
    app, platform = services_off
    assert platform.sagemaker is None
    assert STACK not in [child.node.id for child in app.node.children]


def test_endpoint_alarms_on_any_5xx_and_on_slow_p90_latency_in_microseconds(env: Synthesized) -> None:
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in env.resources(STACK, "AWS::CloudWatch::Alarm").values()
    }
    dimensions = [
        {"Name": "EndpointName", "Value": env.settings.forecast_name},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    errors, latency = alarms["Invocation5XXErrors"], alarms["ModelLatency"]
    assert errors["Dimensions"] == latency["Dimensions"] == dimensions
    assert (errors["Statistic"], errors["Threshold"], errors["EvaluationPeriods"]) == ("Sum", 1, 1)
    assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (latency["ExtendedStatistic"], latency["Period"], latency["EvaluationPeriods"]) == ("p90", 300, 3)
    assert (
        latency["Threshold"] == env.settings.sagemaker.endpoint.latency_alarm_ms * 1000
    )  # ModelLatency is in µs
    assert errors["TreatMissingData"] == latency["TreatMissingData"] == "notBreaching"  # no traffic is fine
