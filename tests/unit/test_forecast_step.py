"""The Forecast step (SageMakerStack's ``Scoring``): the approved model, the processing job, its
roles, the accuracy query and the drift alarm."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from config import sagemaker_image
from platform_constructs.lake_access import READ_ACTIONS, WRITE_ACTIONS
from platform_constructs.sagemaker.forecasting import BOOTSTRAP, METRICS_NAMESPACE, RECENT_WAPE
from tests.conftest import Synthesized
from tests.unit.expressions import defined, evaluate
from tests.unit.policies import as_list, lake_grants, role_statements
from tests.unit.references import alarm_topic, referenced
from tests.unit.test_sagemaker_stack import SECURITY_GROUP, STACK, _definition
from workloads.sagemaker import forecast
from workloads.schema import FORECASTS_VS_ACTUALS, STORE_DAILY_FEATURES, STORE_FORECASTS

MACHINE, MACHINE_ROLE = "ScoringStateMachineE8EB195E", "ScoringStateMachineRoleA6BC118B"
JOB_ROLE, DRIFT = "ScoringJobRoleB04A91C7", "ScoringDriftEC3DDBB0"
LAKE_KEY = "TOKEN:PublishOutputFnGetAttLakeKey7B6C155CArnA4980F47"
ANALYTICS = "TOKEN:PublishOutputRefLakeAnalyticsB9F8ACA8A7C6D1A0"
S3 = lambda actions: {a for a in actions if a.startswith("s3:")}  # noqa: E731


def _states(env: Synthesized) -> dict[str, Any]:
    return _definition(env, MACHINE)["States"]  # type: ignore[no-any-return]


def _path(states: dict[str, Any], start: str) -> list[str]:
    """State names from ``start`` along Next and the first branch of each choice."""
    path, name = [], start
    while name:
        path.append(name)
        state = states[name]
        name = state.get("Next") or (state.get("Choices") or [{}])[0].get("Next")
    return path


def test_a_forecast_finds_the_approved_model_scores_the_day_then_measures_the_accuracy(
    env: Synthesized,
) -> None:
    definition = _definition(env, MACHINE)
    states = definition["States"]
    assert _path(states, definition["StartAt"]) == [
        "Day",
        "DayIsValid",
        "NewestApproved",
        "ModelApproved",
        "ApprovedPackage",
        "FeaturesOfDay",
        "HasFeatures",
        "Score",
        "RecentAccuracy",
        "AccuracyResult",
        "HasAccuracy",
        "PublishAccuracy",
        "Forecasted",
    ]
    newest = states["NewestApproved"]["Arguments"]
    assert newest == {  # what the deploy machine serves: the newest approved version of the group
        "ModelPackageGroupName": env.settings.forecast_name,
        "ModelApprovalStatus": "Approved",
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 1,
    }
    assert states["Score"]["Resource"].endswith(":states:::sagemaker:createProcessingJob.sync")
    assert states["RecentAccuracy"]["Resource"].endswith(":states:::athena:startQueryExecution.sync")
    assert evaluate(states["Day"]["Assign"]["day"], states={"input": {"day": "2026-03-17"}}) == "2026-03-17"


def test_a_bad_day_no_model_and_a_day_without_features_end_clearly(env: Synthesized) -> None:
    states = _states(env)
    (valid,) = states["DayIsValid"]["Choices"]
    assert evaluate(valid["Condition"], day="2026-03-17")
    assert not evaluate(valid["Condition"], day="2026-03-17' OR 1=1")  # the day goes into a query
    assert states["DayIsValid"]["Default"] == "BadDay"
    assert defined(states["Day"]["Assign"]["day"], states={"input": {}})  # no day is '', then BadDay
    assert evaluate(states["Day"]["Assign"]["day"], states={"input": {}}) == ""
    assert evaluate(valid["Condition"], day="") is False
    package = states["NewestApproved"]["Assign"]["package"]
    none = {"result": {"ModelPackageSummaryList": []}}
    assert defined(package, states=none) and evaluate(package, states=none) is None  # null, not nothing
    found = {"result": {"ModelPackageSummaryList": [{"ModelPackageArn": "arn:p/1"}]}}
    assert evaluate(package, states=found) == "arn:p/1"
    (approved,) = states["ModelApproved"]["Choices"]
    assert not evaluate(approved["Condition"], package=None) and evaluate(
        approved["Condition"], package="arn"
    )
    skipped = states[states["ModelApproved"]["Default"]]
    assert skipped["Type"] == "Succeed" and skipped["Output"]["forecast"] is False
    assert env.settings.forecast_name in evaluate(skipped["Output"]["note"])
    listed = states["FeaturesOfDay"]["Arguments"]
    assert listed["Bucket"] == ANALYTICS
    # Spark's data files, not the _WRITTEN marker an emptied day keeps
    prefix = f"{STORE_DAILY_FEATURES.prefix}sale_date=2026-03-17/part-"
    assert evaluate(listed["Prefix"], day="2026-03-17") == prefix
    (has,) = states["HasFeatures"]["Choices"]
    assert not evaluate(has["Condition"], states={"input": {"KeyCount": 0}})
    no_features = states[states["HasFeatures"]["Default"]]
    assert no_features["Type"] == "Fail" and no_features["Error"] == "NoFeatures"
    cause = evaluate(no_features["Cause"], day="2026-03-17")
    assert "2026-03-17" in cause and "day before" in cause


def test_the_processing_job_is_isolated_private_encrypted_and_writes_one_file_per_version(
    env: Synthesized,
) -> None:
    job = _states(env)["Score"]["Arguments"]
    config = env.settings.sagemaker.forecast
    assert job["RoleArn"] == f"TOKEN:{JOB_ROLE}"
    network = job["NetworkConfig"]
    assert (
        network["EnableNetworkIsolation"] is True and network["EnableInterContainerTrafficEncryption"] is True
    )
    assert network["VpcConfig"]["SecurityGroupIds"] == [f"TOKEN:{SECURITY_GROUP}"]
    assert all("PrivateSubnet" in subnet for subnet in network["VpcConfig"]["Subnets"])
    cluster = job["ProcessingResources"]["ClusterConfig"]
    assert cluster == {
        "InstanceCount": 1,
        "InstanceType": config.instance_type,
        "VolumeSizeInGB": config.volume_size_gb,
        "VolumeKmsKeyId": LAKE_KEY,
    }
    assert job["ProcessingOutputConfig"]["KmsKeyId"] == LAKE_KEY
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": config.max_runtime_minutes * 60}
    assert job["Tags"] == [{"Key": k, "Value": v} for k, v in sorted(env.settings.resource_tags.items())]
    assert job["AppSpecification"]["ImageUri"].endswith(
        f"/{sagemaker_image.REPOSITORY}:{sagemaker_image.TAG}"
    )
    entrypoint = job["AppSpecification"]["ContainerEntrypoint"]
    assert entrypoint == ["python3", "-c", BOOTSTRAP] and all(len(item) <= 256 for item in entrypoint)
    variables = {"day": "2026-03-17", "version": 3, "run_id": "dsp-run", "model": "s3://m/model.tar.gz"}
    arguments = [
        evaluate(a, **variables) if a.startswith("{%") else a
        for a in job["AppSpecification"]["ContainerArguments"]
    ]
    parsed = forecast._arguments(arguments)  # the script takes what the job passes
    assert (parsed.day, parsed.model_version, parsed.run_id) == (date(2026, 3, 17), 3, "dsp-run")
    inputs = {i["InputName"]: i["S3Input"] for i in job["ProcessingInputs"]}
    assert str(parsed.features) == inputs["features"]["LocalPath"]
    assert str(parsed.model) == inputs["model"]["LocalPath"]
    assert evaluate(inputs["model"]["S3Uri"], **variables) == "s3://m/model.tar.gz"
    assert evaluate(inputs["features"]["S3Uri"], **variables) == (
        f"s3://{ANALYTICS}/{STORE_DAILY_FEATURES.prefix}sale_date=2026-03-17/"
    )
    (output,) = job["ProcessingOutputConfig"]["Outputs"]
    assert str(parsed.output) == output["S3Output"]["LocalPath"]
    assert output["S3Output"]["S3UploadMode"] == "EndOfJob"
    assert evaluate(output["S3Output"]["S3Uri"], **variables) == (  # the job adds each file's name
        f"s3://{ANALYTICS}/{STORE_FORECASTS.prefix}forecast_date=2026-03-17"
    )
    name = evaluate(
        job["ProcessingJobName"],
        states={"context": {"Execution": {"StartTime": "2026-12-01T09:31:50.123Z", "RedriveCount": 0}}},
    )
    assert name.startswith(f"{env.settings.forecast_name}-") and len(name) <= 63


def test_the_job_role_reads_features_and_models_and_writes_forecasts_only(env: Synthesized) -> None:
    grants = lake_grants(env, STACK, JOB_ROLE)
    assert set(grants) == {"analytics", "artifacts"}
    analytics_actions, analytics = grants["analytics"]
    assert analytics == {"", f"/{STORE_DAILY_FEATURES.prefix}*", f"/{STORE_FORECASTS.prefix}*"}
    assert S3(analytics_actions) == S3(WRITE_ACTIONS)  # writing only its own table: see below
    puts = [
        s["Resource"] for s in role_statements(env, STACK, JOB_ROLE) if "s3:PutObject" in as_list(s["Action"])
    ]
    assert json.dumps(puts).count(STORE_FORECASTS.prefix) == len(puts) == 1
    assert grants["artifacts"] == (S3(READ_ACTIONS), {"", "/sagemaker/forecast/training/*"})
    trust = env.properties(STACK, JOB_ROLE)["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "sagemaker.amazonaws.com"}]
    assert all("aws:SourceAccount" in json.dumps(s["Condition"]) for s in trust)


def test_the_state_machine_role_passes_the_job_role_queries_its_workgroup_and_puts_one_namespace(
    env: Synthesized,
) -> None:
    statements = role_statements(env, STACK, MACHINE_ROLE)
    (pass_role,) = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
    assert pass_role["Resource"] == {"Fn::GetAtt": [JOB_ROLE, "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    (metric,) = [s for s in statements if "cloudwatch:PutMetricData" in as_list(s["Action"])]
    assert metric["Condition"] == {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}}
    (query,) = [s for s in statements if "athena:StartQueryExecution" in as_list(s["Action"])]
    assert json.dumps(query["Resource"]).endswith(f'workgroup/{env.settings.name_prefix}"]]}}')
    (jobs,) = [s for s in statements if "sagemaker:CreateProcessingJob" in as_list(s["Action"])]
    assert f"processing-job/{env.settings.forecast_name}-*" in json.dumps(jobs["Resource"])
    grants = lake_grants(env, STACK, MACHINE_ROLE)
    assert grants["analytics"] == (
        S3(READ_ACTIONS),
        {"", f"/{STORE_DAILY_FEATURES.prefix}*", f"/{STORE_FORECASTS.prefix}*"},
    )  # what its query reads, and its results
    assert grants["artifacts"][1] == {"", "/athena-results/*"}
    trust = env.properties(STACK, MACHINE_ROLE)["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "states.amazonaws.com"}]
    assert all("aws:SourceAccount" in json.dumps(s["Condition"]) for s in trust)


def test_the_recent_wape_is_queried_from_the_view_and_published_only_when_there_is_one(
    env: Synthesized,
) -> None:
    states = _states(env)
    window = env.settings.sagemaker.forecast.drift_window_days
    query = states["RecentAccuracy"]["Arguments"]
    assert query["WorkGroup"] == env.settings.name_prefix
    assert query["QueryExecutionContext"]["Database"] == f"{env.settings.name_prefix}_analytics".replace(
        "-", "_"
    )
    sql = evaluate(query["QueryString"], day="2026-03-17")
    first = (date(2026, 3, 17) - timedelta(days=window)).isoformat()
    assert f"FROM {FORECASTS_VS_ACTUALS.name} " in sql and f"forecast_date >= '{first}'" in sql
    result = states["AccuracyResult"]["Assign"]["recent_wape"]
    rows = {
        "ResultSet": {"Rows": [{"Data": [{"VarCharValue": "wape"}]}, {"Data": [{"VarCharValue": "0.2"}]}]}
    }
    assert evaluate(result, states={"result": rows}) == 0.2
    empty = {"ResultSet": {"Rows": [{"Data": [{"VarCharValue": "wape"}]}, {"Data": [{}]}]}}
    assert evaluate(result, states={"result": empty}) is None
    (has,) = states["HasAccuracy"]["Choices"]
    assert evaluate(has["Condition"], recent_wape=0.2) and not evaluate(has["Condition"], recent_wape=None)
    (datum,) = states["PublishAccuracy"]["Arguments"]["MetricData"]
    assert states["PublishAccuracy"]["Arguments"]["Namespace"] == METRICS_NAMESPACE
    assert datum["MetricName"] == RECENT_WAPE
    assert datum["Dimensions"] == [{"Name": "ModelPackageGroup", "Value": env.settings.forecast_name}]


def test_drift_pages_when_the_recent_wape_passes_the_gate_times_the_factor(env: Synthesized) -> None:
    alarm = env.properties(STACK, DRIFT)
    sagemaker = env.settings.sagemaker
    assert alarm["Namespace"] == METRICS_NAMESPACE and alarm["MetricName"] == RECENT_WAPE
    assert alarm["Dimensions"] == [{"Name": "ModelPackageGroup", "Value": env.settings.forecast_name}]
    assert alarm["Threshold"] == round(sagemaker.training.max_wape * sagemaker.forecast.drift_factor, 6)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"  # no sales yet is not drift
    assert alarm["Period"] == 86_400
    (action,) = alarm["AlarmActions"]
    assert referenced(env, STACK, action) == alarm_topic(env)
