"""Nothing that fails is silent: each service's failure signals reach the platform alarm topic.

The routing table below lists, per service, every failure the platform can have and the signal
(an EventBridge rule or a CloudWatch alarm) that must carry it to the alarm topic. The signals are
read from the synthesized templates of every stack, following cross-stack references to the topic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_stepfunctions as sfn

from config.settings import Settings
from platform_constructs.providers import WaitingProvider
from tests.conftest import Synthesized
from tests.unit.references import alarm_topic, referenced, resource_type


@dataclass(frozen=True)
class Signal:
    """One rule or alarm of a stack that notifies the alarm topic."""

    stack: str
    kind: str  # "rule" or "alarm"
    body: dict[str, Any]  # the rule's event pattern, or the alarm's properties


def _to_topic(env: Synthesized, stack: str, values: list[Any]) -> bool:
    return any(referenced(env, stack, value) == alarm_topic(env) for value in values)


def routed_signals(env: Synthesized) -> list[Signal]:
    """Every rule and alarm in the platform's templates that notifies the alarm topic."""
    signals = []
    for artifact in env.assembly.stacks:
        stack = artifact.id
        for rule in env.resources(stack, "AWS::Events::Rule").values():
            properties = rule["Properties"]
            if _to_topic(env, stack, [target["Arn"] for target in properties.get("Targets", [])]):
                signals.append(Signal(stack, "rule", properties["EventPattern"]))
        for alarm in env.resources(stack, "AWS::CloudWatch::Alarm").values():
            if _to_topic(env, stack, alarm["Properties"].get("AlarmActions", [])):
                signals.append(Signal(stack, "alarm", alarm["Properties"]))
    return signals


Check = Callable[[Synthesized, Signal], bool]


def event(
    source: str, detail_type: str, *, names: tuple[str, str] | None = None, **detail: list[str]
) -> Check:
    """A rule on ``source``'s ``detail_type`` events that matches at least the ``detail`` values and,
    with ``names`` (a dotted detail field, a resource type), only resources of that type in the
    platform's templates."""

    def check(env: Synthesized, signal: Signal) -> bool:
        pattern = signal.body
        if not (
            signal.kind == "rule"
            and pattern.get("source") == [source]
            and pattern.get("detail-type") == [detail_type]
            and all(set(values) <= set(_flat(pattern["detail"], key)) for key, values in detail.items())
        ):
            return False
        if names is None:
            return True
        field, resource = names
        values = _flat(pattern["detail"], field)
        return bool(values) and all(
            resource_type(env, referenced(env, signal.stack, value)) == resource for value in values
        )

    return check


def failed_runs(stack: str) -> Check:
    """A rule on failed, timed-out and aborted executions of a state machine of ``stack``."""

    def check(env: Synthesized, signal: Signal) -> bool:
        failed = ["FAILED", "TIMED_OUT", "ABORTED"]
        if not event("aws.states", "Step Functions Execution Status Change", status=failed)(env, signal):
            return False
        (machine,) = signal.body["detail"]["stateMachineArn"]
        target = referenced(env, signal.stack, machine)
        return resource_type(env, target) == "AWS::StepFunctions::StateMachine" and target[0] == stack  # type: ignore[index]

    return check


def alarm(namespace: str, metric_name: str, **dimensions: Callable[[Synthesized, str, Any], bool]) -> Check:
    """An alarm on ``namespace``'s ``metric_name`` whose dimensions each pass their check (given the
    stack and the dimension's value)."""

    def check(env: Synthesized, signal: Signal) -> bool:
        body = signal.body
        if signal.kind != "alarm" or (body.get("Namespace"), body.get("MetricName")) != (
            namespace,
            metric_name,
        ):
            return False
        found = {d["Name"]: d["Value"] for d in body.get("Dimensions", [])}
        return set(found) >= set(dimensions) and all(
            valid(env, signal.stack, found[name]) for name, valid in dimensions.items()
        )

    return check


def resource_of(resource: str) -> Callable[[Synthesized, str, Any], bool]:
    """A dimension value that references a resource of type ``resource``."""
    return lambda env, stack, value: resource_type(env, referenced(env, stack, value)) == resource


def property_of(resource: str, field: str) -> Callable[[Synthesized, str, Any], bool]:
    """A dimension value equal to ``field`` of a ``resource`` somewhere in the platform."""

    def valid(env: Synthesized, _: str, value: Any) -> bool:
        return any(
            value == r["Properties"].get(field)
            for artifact in env.assembly.stacks
            for r in env.resources(artifact.id, resource).values()
        )

    return valid


def cluster_names(env: Synthesized, signal: Signal) -> bool:
    """The rule covers every cluster the platform makes: the transient runs' and the long-running one."""
    patterns = _flat(signal.body["detail"], "name")
    transient = env.settings.emr.feature_runs_on == "transient_cluster"
    names = [f"{env.settings.name_prefix}-features"] * transient + [
        r["Properties"]["Name"] for r in env.resources("Emr", "AWS::EMR::Cluster").values()
    ]
    return all(
        any(name == p if isinstance(p, str) else name.startswith(p["prefix"]) for p in patterns)
        for name in names
    )


def _flat(detail: dict[str, Any], dotted: str) -> list[Any]:
    for part in dotted.split("."):
        detail = detail.get(part, {})
    return detail if isinstance(detail, list) else []


def both(first: Check, second: Check) -> Check:
    return lambda env, signal: first(env, signal) and second(env, signal)


Applies = Callable[[Settings], bool]
ALWAYS: Applies = lambda _: True  # noqa: E731

ROUTES: list[tuple[str, str, Check, Applies]] = [
    ("pipeline", "a run failed, timed out or was aborted", failed_runs("Pipeline"), ALWAYS),
    (
        "pipeline",
        "the schedule could not start a run",
        alarm("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=resource_of("AWS::SQS::Queue")),
        lambda settings: settings.pipeline.schedule is not None,
    ),
    (
        "glue",
        "the ETL job failed or timed out",
        event(
            "aws.glue",
            "Glue Job State Change",
            names=("jobName", "AWS::Glue::Job"),
            state=["FAILED", "TIMEOUT"],
        ),
        ALWAYS,
    ),
    (
        "glue",
        "the raw crawler failed",
        event(
            "aws.glue",
            "Glue Crawler State Change",
            names=("crawlerName", "AWS::Glue::Crawler"),
            state=["Failed"],
        ),
        ALWAYS,
    ),
    (
        "glue",
        "the data-quality gate failed",
        event(
            "aws.glue-dataquality",
            "Data Quality Evaluation Results Available",
            names=("context.jobName", "AWS::Glue::Job"),
            state=["FAILED"],
        ),
        ALWAYS,
    ),
    ("emr", "a feature run (its job, or its cluster or step) failed", failed_runs("Emr"), ALWAYS),
    (
        "emr",
        "the serverless feature job failed or was cancelled",
        event(
            "aws.emr-serverless",
            "EMR Serverless Job Run State Change",
            names=("applicationId", "AWS::EMRServerless::Application"),
            state=["FAILED", "CANCELLED"],
        ),
        lambda settings: settings.emr.feature_runs_on == "serverless",
    ),
    (
        "emr",
        "a cluster terminated with errors",
        both(event("aws.emr", "EMR Cluster State Change", state=["TERMINATED_WITH_ERRORS"]), cluster_names),
        lambda settings: settings.emr.feature_runs_on == "transient_cluster" or settings.emr.cluster.enabled,
    ),
    (
        "emr",
        "a step on the long-running cluster failed",
        event(
            "aws.emr", "EMR Step Status Change", names=("clusterId", "AWS::EMR::Cluster"), state=["FAILED"]
        ),
        lambda settings: settings.emr.cluster.enabled,
    ),
    (
        "sagemaker",
        "training (the job, the gate or registering), the Forecast step or a deployment failed",
        failed_runs("SageMaker"),
        ALWAYS,
    ),
    (
        "sagemaker",
        "the forecasts drifted (the recent WAPE above the gate times the factor)",
        alarm(
            "DataSciencePlatform/Forecast",
            "RecentWAPE",
            ModelPackageGroup=property_of("AWS::SageMaker::ModelPackageGroup", "ModelPackageGroupName"),
        ),
        ALWAYS,
    ),
    (
        "sagemaker",
        "an approval could not start a deployment",
        alarm("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=resource_of("AWS::SQS::Queue")),
        lambda settings: settings.sagemaker.approval == "manual",
    ),
    (
        "sagemaker",
        "the endpoint answered with 5xx errors",
        alarm(
            "AWS/SageMaker",
            "Invocation5XXErrors",
            EndpointName=property_of("Custom::SageMakerEndpoint", "EndpointName"),
        ),
        ALWAYS,
    ),
    (
        "sagemaker",
        "the endpoint is slow",
        alarm(
            "AWS/SageMaker",
            "ModelLatency",
            EndpointName=property_of("Custom::SageMakerEndpoint", "EndpointName"),
        ),
        ALWAYS,
    ),
    (
        "video",
        "the frame sampler failed",
        alarm("AWS/Lambda", "Errors", FunctionName=resource_of("AWS::Lambda::Function")),
        ALWAYS,
    ),
    (
        "video",
        "the frame sampler was throttled",
        alarm("AWS/Lambda", "Throttles", FunctionName=resource_of("AWS::Lambda::Function")),
        ALWAYS,
    ),
    (
        "video",
        "sampler events were dead-lettered",
        alarm("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=resource_of("AWS::SQS::Queue")),
        ALWAYS,
    ),
    (
        "video",
        "a camera went silent",
        alarm(
            "AWS/KinesisVideo",
            "PutMedia.IncomingFragments",
            StreamName=property_of("AWS::KinesisVideo::Stream", "Name"),
        ),
        lambda settings: settings.video.no_fragments_alarm_minutes is not None,
    ),
    (
        "quicksight",
        "a SPICE ingestion failed",
        alarm(
            "AWS/QuickSight",
            "IngestionErrorCount",
            DatasetId=property_of("AWS::QuickSight::DataSet", "DataSetId"),
        ),
        ALWAYS,
    ),
]


@pytest.mark.parametrize(
    ("service", "failure", "check", "applies"),
    ROUTES,
    ids=[f"{service}: {failure}" for service, failure, _, _ in ROUTES],
)
def test_each_failure_reaches_the_alarm_topic(
    env: Synthesized, service: str, failure: str, check: Check, applies: Applies
) -> None:
    assert getattr(env.settings, service).enabled
    if not applies(env.settings):
        pytest.skip(f"{env.settings.environment} has no such failure")
    stacks = {"video": "Video", "sagemaker": "SageMaker", "pipeline": "Pipeline"}
    signals = [s for s in routed_signals(env) if service not in stacks or s.stack == stacks[service]]
    assert any(check(env, signal) for signal in signals), f"{service}: {failure} is silent"


def deploy_time_waiters(env: Synthesized) -> set[tuple[str, str]]:
    """(stack, logical ID) of the custom-resource providers' waiter state machines: their failure
    fails a CloudFormation operation, which reports it to whoever deploys."""
    waiters = set()
    for stack in (getattr(env.platform, field.name) for field in fields(env.platform)):
        for construct in stack.node.find_all() if stack is not None else ():
            if isinstance(construct, WaitingProvider):
                waiter = construct.node.find_child("Provider").node.find_child("waiter-state-machine")
                machine = waiter.node.default_child
                assert isinstance(machine, sfn.CfnStateMachine)
                waiters.add((stack.artifact_id, Stack.of(machine).get_logical_id(machine)))
    return waiters


def test_every_state_machine_has_its_failures_routed(env: Synthesized) -> None:
    waiters = deploy_time_waiters(env)
    machines = {
        (artifact.id, logical_id)
        for artifact in env.assembly.stacks
        for logical_id in env.resources(artifact.id, "AWS::StepFunctions::StateMachine")
    } - waiters
    assert machines
    watched = {
        referenced(env, signal.stack, arn)
        for signal in routed_signals(env)
        if signal.kind == "rule" and signal.body.get("source") == ["aws.states"]
        for arn in signal.body["detail"]["stateMachineArn"]
    }
    assert machines <= watched


def test_every_alarm_of_the_platform_notifies_the_alarm_topic(env: Synthesized) -> None:
    alarms = [
        (artifact.id, alarm_id)
        for artifact in env.assembly.stacks
        for alarm_id in env.resources(artifact.id, "AWS::CloudWatch::Alarm")
    ]
    assert len(alarms) == len([s for s in routed_signals(env) if s.kind == "alarm"])


def test_each_dataset_and_each_prod_camera_has_its_own_alarm(env: Synthesized) -> None:
    signals = [s for s in routed_signals(env) if s.kind == "alarm"]
    datasets = {
        d["Value"]
        for s in signals
        if alarm("AWS/QuickSight", "IngestionErrorCount")(env, s)
        for d in s.body["Dimensions"]
    }
    assert datasets == {
        r["Properties"]["DataSetId"] for r in env.resources("QuickSight", "AWS::QuickSight::DataSet").values()
    }
    silent = {
        d["Value"]
        for s in signals
        if alarm("AWS/KinesisVideo", "PutMedia.IncomingFragments")(env, s)
        for d in s.body["Dimensions"]
    }
    streams = {r["Properties"]["Name"] for r in env.resources("Video", "AWS::KinesisVideo::Stream").values()}
    assert silent == (streams if env.settings.video.no_fragments_alarm_minutes else set())
