"""ObservabilityStack: every dashboard metric names a resource of the platform; the budget's filter,
amount and notifications come from the settings."""

from __future__ import annotations

import json
import re
from typing import Any

import botocore.session
from aws_cdk import App, Stack
from botocore.validate import ParamValidator

from app import Platform
from tests.conftest import Synthesized
from tests.unit.references import alarm_topic, referenced, resource_type
from workloads.glue.quality import EVALUATION_CONTEXT

STACK = "Observability"


def _dashboard(env: Synthesized) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dashboard body, with each CloudFormation value in it replaced by a ``@n@`` key -> value."""
    (dashboard,) = env.resources(STACK, "AWS::CloudWatch::Dashboard").values()
    text, tokens = "", {}
    for part in dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]:
        if isinstance(part, str):
            text += part
        else:
            key = f"@{len(tokens)}@"
            tokens[key], text = part, text + key
    return json.loads(text), tokens


def _metrics(body: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every plain metric on the dashboard."""
    found = []
    for widget in body["widgets"]:
        for line in widget["properties"]["metrics"]:
            if isinstance(line[0], str):
                fields = [item for item in line if isinstance(item, str)]
                found.append((fields[0], fields[1], dict(zip(fields[2::2], fields[3::2], strict=True))))
    return found


def _expressions(body: dict[str, Any]) -> list[str]:
    return [
        line[0]["expression"]
        for widget in body["widgets"]
        for line in widget["properties"]["metrics"]
        if isinstance(line[0], dict)
    ]


def _names(env: Synthesized, stack: str, resource_type: str, field: str) -> set[str]:
    return {r["Properties"][field] for r in env.resources(stack, resource_type).values()}


def test_every_dashboard_metric_names_a_resource_of_the_platform(env: Synthesized) -> None:
    body, tokens = _dashboard(env)
    referenced_types = {
        "StateMachineArn": "AWS::StepFunctions::StateMachine",
        "JobName": "AWS::Glue::Job",
        "JobFlowId": "AWS::EMR::Cluster",
        "ApplicationId": "AWS::EMRServerless::Application",
    }
    (endpoint,) = env.resources("SageMaker", "Custom::SageMakerEndpoint").values()
    sampler = env.properties("Video", "SamplerFunction14436B6F")
    by_name = {
        "EndpointName": {endpoint["Properties"]["EndpointName"]},
        "VariantName": {
            variant["VariantName"]
            for config in env.resources("SageMaker", "AWS::SageMaker::EndpointConfig").values()
            for variant in config["Properties"]["ProductionVariants"]
        },
        "Stream": _names(env, "Video", "AWS::KinesisVideo::Stream", "Name"),
        "DatasetId": _names(env, "QuickSight", "AWS::QuickSight::DataSet", "DataSetId"),
        "JobRunId": {"ALL"},
        "ApplicationName": _names(env, "Emr", "AWS::EMRServerless::Application", "Name"),
        "Type": {"gauge"},
    }
    machines = set()
    namespaces = set()
    for namespace, _, dimensions in _metrics(body):
        namespaces.add(namespace)
        for dimension, value in dimensions.items():
            if dimension in referenced_types:
                target = referenced(env, STACK, tokens.get(value))
                assert resource_type(env, target) == referenced_types[dimension], (dimension, value)
                if dimension == "StateMachineArn":
                    machines.add(target)
            else:
                assert value in by_name[dimension], (namespace, dimension, value)
    frames = sampler["Environment"]["Variables"]["METRICS_NAMESPACE"]
    expected = {"AWS/States", "Glue", "AWS/SageMaker", "AWS/QuickSight", frames}
    if env.settings.emr.cluster.enabled:
        expected.add("AWS/ElasticMapReduce")
    if env.settings.emr.feature_runs_on == "serverless":
        expected.add("AWS/EMRServerless")
    assert expected <= namespaces
    assert {stack for stack, _ in machines} == {"Pipeline", "Emr", "SageMaker"}
    metrics = {(namespace, name) for namespace, name, _ in _metrics(body)}
    assert {
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionTime"),
        ("Glue", "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors"),
        ("AWS/SageMaker", "Invocations"),
        ("AWS/SageMaker", "ModelLatency"),
        ("AWS/SageMaker", "Invocation5XXErrors"),
        (frames, "FramesWritten"),
        ("AWS/QuickSight", "IngestionErrorCount"),
    } <= metrics
    quality = [e for e in _expressions(body) if "Glue Data Quality" in e]
    assert len(quality) == 2 and all(f'"{EVALUATION_CONTEXT}"' in e for e in quality)
    assert "100 * passed / (passed + failed)" in _expressions(body)
    (workgroup,) = _names(env, "DataLake", "AWS::Athena::WorkGroup", "Name")
    athena = [e for e in _expressions(body) if "AWS/Athena" in e]
    assert athena and all(f'WorkGroup="{workgroup}"' in e for e in athena)


def test_the_budget_filters_on_the_platform_tags_and_notifies_the_alarm_topic(env: Synthesized) -> None:
    (budget,) = env.resources(STACK, "AWS::Budgets::Budget").values()
    data = budget["Properties"]["Budget"]
    config = env.settings.budget
    assert data["BudgetName"] == f"{env.settings.name_prefix}-monthly"
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    assert data["BudgetLimit"] == {"Amount": config.monthly_usd, "Unit": "USD"}
    tags = {
        (tag["Tags"]["Key"], tuple(tag["Tags"]["Values"]), tuple(tag["Tags"]["MatchOptions"]))
        for tag in data["FilterExpression"]["And"]
        if "Tags" in tag
    }
    assert tags == {
        ("project", (env.settings.prefix,), ("EQUALS",)),
        ("environment", (env.settings.environment,), ("EQUALS",)),
    }
    thresholds = []
    for entry in budget["Properties"]["NotificationsWithSubscribers"]:
        (subscriber,) = entry["Subscribers"]
        assert subscriber["SubscriptionType"] == "SNS"
        assert referenced(env, STACK, subscriber["Address"]) == alarm_topic(env)
        notification = entry["Notification"]
        assert (notification["ComparisonOperator"], notification["ThresholdType"]) == (
            "GREATER_THAN",
            "PERCENTAGE",
        )
        thresholds.append((notification["NotificationType"], notification["Threshold"]))
    assert thresholds == [("ACTUAL", p) for p in config.actual_percent] + [
        ("FORECASTED", p) for p in config.forecast_percent
    ]


def test_the_budget_leaves_credits_and_refunds_out_in_a_shape_the_budgets_api_accepts(
    env: Synthesized,
) -> None:
    """A ``FilterExpression`` needs ``Metrics`` and replaces the legacy ``CostFilters``/``CostTypes``
    (Budgets API, CreateBudget): credits and refunds are left out by their charge type instead."""
    (budget,) = env.resources(STACK, "AWS::Budgets::Budget").values()
    data = budget["Properties"]["Budget"]
    assert data["Metrics"] == ["UnblendedCost"]
    assert "CostTypes" not in data and "CostFilters" not in data
    (hidden,) = [part["Not"] for part in data["FilterExpression"]["And"] if "Not" in part]
    assert hidden == {
        "Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"], "MatchOptions": ["EQUALS"]}
    }
    model = botocore.session.get_session().get_service_model("budgets")
    as_sent = {**data, "BudgetLimit": {**data["BudgetLimit"], "Amount": str(data["BudgetLimit"]["Amount"])}}
    report = ParamValidator().validate(
        {"AccountId": "123456789012", "Budget": as_sent}, model.operation_model("CreateBudget").input_shape
    )
    assert not report.has_errors(), report.generate_report()


def test_services_switched_off_leave_the_dashboard_and_the_budget_off_is_absent(
    services_off: tuple[App, Platform],
) -> None:
    _, platform = services_off
    stack = platform.observability
    assert stack.budget is None
    dashboard = stack.dashboard.dashboard.node.default_child
    body = json.dumps(Stack.of(stack).resolve(dashboard.dashboard_body))  # type: ignore[union-attr]
    for absent in ("AWS/States", "AWS/SageMaker", "FrameSampler", "AWS/QuickSight", "ElasticMapReduce"):
        assert absent not in body
    assert re.search(r"glue\.driver\.ExecutorAllocationManager", body) and "AWS/Athena" in body
