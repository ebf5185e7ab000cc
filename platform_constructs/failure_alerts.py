"""EventBridge rules that send failure events to the platform alarm topic, readable by a person."""

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct


class FailureAlerts(Construct):
    """One EventBridge rule per entry of ``alerts`` (rule ID -> (event pattern, message template)),
    each publishing its message to ``topic``. A message template may name event fields as
    ``<detail.state>``-style paths, which the rule fills in. The topic is referenced by ARN, so
    its policies are left as they are: the alarm topic already lets EventBridge of this account
    publish and use its key (CDK's target would add the same without the account condition).
    Exposes ``rules`` (rule ID -> rule).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        alerts: Mapping[str, tuple[events.EventPattern, str]],
    ) -> None:
        """
        :param topic: the platform alarm topic.
        :param alerts: rule ID -> (which events, the message with ``<field.path>`` placeholders).
        """
        super().__init__(scope, construct_id)
        self.rules: dict[str, events.Rule] = {}
        by_arn = sns.Topic.from_topic_arn(self, "Topic", topic.topic_arn)
        for rule_id, (pattern, template) in alerts.items():
            rule = events.Rule(self, rule_id, event_pattern=pattern, description=template.split(":")[0])
            rule.add_target(
                targets.SnsTopic(by_arn, message=events.RuleTargetInput.from_text(_fill(template)))
            )
            self.rules[rule_id] = rule


def failed_executions(machine: sfn.IStateMachine) -> events.EventPattern:
    """Executions of ``machine`` that failed, timed out or were aborted."""
    return events.EventPattern(
        source=["aws.states"],
        detail_type=["Step Functions Execution Status Change"],
        detail={"stateMachineArn": [machine.state_machine_arn], "status": ["FAILED", "TIMED_OUT", "ABORTED"]},
    )


def key_tampering(keys: Sequence[kms.IKey]) -> tuple[events.EventPattern, str]:
    """An alert for ``keys`` disabled or scheduled for deletion, from the CloudTrail management
    events EventBridge receives (a trail must record them; the event's ``resources`` hold the key
    ARN however the caller named the key)."""
    return (
        events.EventPattern(
            source=["aws.kms"],
            detail_type=["AWS API Call via CloudTrail"],
            detail={
                "eventSource": ["kms.amazonaws.com"],
                "eventName": ["ScheduleKeyDeletion", "DisableKey"],
                "resources": {"ARN": [key.key_arn for key in keys]},
            },
        ),
        "KMS key disabled or scheduled for deletion: <detail.eventName> of <detail.requestParameters.keyId> "
        "by <detail.userIdentity.arn>",
    )


def _fill(template: str) -> Any:
    """``template`` with each ``<a.b>`` replaced by the event field at that path."""
    parts = template.split("<")
    text = parts[0]
    for part in parts[1:]:
        path, rest = part.split(">", 1)
        text += events.EventField.from_path(f"$.{path}") + rest
    return text
