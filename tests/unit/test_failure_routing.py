"""Nothing that fails is silent: each service's failure signals reach the platform alarm topic.

The routing table below lists, per service, every failure the platform can have and the signal
(an EventBridge rule or a CloudWatch alarm) that must carry it to the alarm topic. The signals are
read from the synthesized templates of every stack, following cross-stack references to the topic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

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


def event(source: str, detail_type: str, **detail: list[str]) -> Check:
    """A rule on ``source``'s ``detail_type`` events that matches at least the ``detail`` values."""

    def check(_: Synthesized, signal: Signal) -> bool:
        pattern = signal.body
        return (
            signal.kind == "rule"
            and pattern.get("source") == [source]
            and pattern.get("detail-type") == [detail_type]
            and all(set(values) <= set(_flat(pattern["detail"], key)) for key, values in detail.items())
        )

    return check


def failed_runs(stack: str) -> Check:
    """A rule on failed, timed-out and aborted executions of a state machine of ``stack``."""

    def check(env: Synthesized, signal: Signal) -> bool:
        if not event("aws.states", "Step Functions Execution Status Change", status=["FAILED", "TIMED_OUT"])(
            env, signal
        ):
            return False
        (machine,) = signal.body["detail"]["stateMachineArn"]
        target = referenced(env, signal.stack, machine)
        return resource_type(env, target) == "AWS::StepFunctions::StateMachine" and target[0] == stack  # type: ignore[index]

    return check


def alarm(namespace: str, metric_name: str) -> Check:
    """An alarm on ``namespace``'s ``metric_name``."""

    def check(_: Synthesized, signal: Signal) -> bool:
        body = signal.body
        return signal.kind == "alarm" and (body.get("Namespace"), body.get("MetricName")) == (
            namespace,
            metric_name,
        )

    return check


def _flat(detail: dict[str, Any], dotted: str) -> list[Any]:
    for part in dotted.split("."):
        detail = detail.get(part, {})
    return detail if isinstance(detail, list) else []


ROUTES: list[tuple[str, str, Check]] = [
    ("pipeline", "a run failed, timed out or was aborted", failed_runs("Pipeline")),
    (
        "glue",
        "the ETL job failed or timed out",
        event("aws.glue", "Glue Job State Change", state=["FAILED", "TIMEOUT"]),
    ),
    ("glue", "the raw crawler failed", event("aws.glue", "Glue Crawler State Change", state=["Failed"])),
    (
        "glue",
        "the data-quality gate failed",
        event("aws.glue-dataquality", "Data Quality Evaluation Results Available", state=["FAILED"]),
    ),
    ("emr", "a transient feature run failed", failed_runs("Emr")),
    ("emr", "the feature step failed", event("aws.emr", "EMR Step Status Change", state=["FAILED"])),
    (
        "emr",
        "a cluster terminated with errors",
        event("aws.emr", "EMR Cluster State Change", state=["TERMINATED_WITH_ERRORS"]),
    ),
    ("sagemaker", "training (the job, the gate or registering) failed", failed_runs("SageMaker")),
    ("sagemaker", "the endpoint answered with 5xx errors", alarm("AWS/SageMaker", "Invocation5XXErrors")),
    ("sagemaker", "the endpoint is slow", alarm("AWS/SageMaker", "ModelLatency")),
    ("video", "the frame sampler failed", alarm("AWS/Lambda", "Errors")),
    ("video", "the frame sampler was throttled", alarm("AWS/Lambda", "Throttles")),
    ("video", "sampler events were dead-lettered", alarm("AWS/SQS", "ApproximateNumberOfMessagesVisible")),
    ("quicksight", "a SPICE ingestion failed", alarm("AWS/QuickSight", "IngestionErrorCount")),
]


@pytest.mark.parametrize(
    ("service", "failure", "check"), ROUTES, ids=[f"{service}: {failure}" for service, failure, _ in ROUTES]
)
def test_each_failure_reaches_the_alarm_topic(
    env: Synthesized, service: str, failure: str, check: Check
) -> None:
    assert getattr(env.settings, service).enabled
    assert any(check(env, signal) for signal in routed_signals(env)), f"{service}: {failure} is silent"


def test_every_state_machine_has_its_failures_routed(env: Synthesized) -> None:
    machines = {
        (artifact.id, logical_id)
        for artifact in env.assembly.stacks
        for logical_id in env.resources(artifact.id, "AWS::StepFunctions::StateMachine")
    }
    watched = {
        referenced(env, signal.stack, arn)
        for signal in routed_signals(env)
        if signal.kind == "rule" and signal.body.get("source") == ["aws.states"]
        for arn in signal.body["detail"]["stateMachineArn"]
    }
    assert machines and machines <= watched


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
