"""The one SNS topic that every failure signal of the platform reaches."""

from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


def publishers(stack: Stack) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each AWS service that publishes alarms -> (its conditions in the topic policy, in the key
    policy), with only the condition keys the service sends. EventBridge rules: none in either,
    as the EventBridge guide says a topic policy for EventBridge takes no ``Condition`` block
    ("Using resource-based policies for Amazon EventBridge", Amazon SNS permissions) and SNS
    says ``aws:SourceAccount``/``aws:SourceArn`` are not supported in the key policy for
    EventBridge to encrypted topics; a condition there would drop every rule's alert. CloudWatch
    alarms and AWS Budgets send both, the alarm's ARN and the budget's."""
    account = {"aws:SourceAccount": stack.account}
    alarms = f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"
    budgets = f"arn:{stack.partition}:budgets::{stack.account}:*"
    by_source = {
        "cloudwatch.amazonaws.com": {"StringEquals": account, "ArnLike": {"aws:SourceArn": alarms}},
        "budgets.amazonaws.com": {"StringEquals": account, "ArnLike": {"aws:SourceArn": budgets}},
    }
    return {
        "events.amazonaws.com": ({}, {}),
        **{service: (conditions, conditions) for service, conditions in by_source.items()},
    }


class AlarmTopic(Construct):
    """An SNS topic for platform alarms, encrypted with ``key``, TLS-only.

    EventBridge, CloudWatch and AWS Budgets may publish to it (topic policy) and
    use its key (statements added to the key policy), one statement per service with the
    conditions of :func:`publishers`. Each address in ``emails`` is subscribed (AWS mails a
    confirmation first). Exposes ``topic`` and ``key``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        emails: Sequence[str] = (),
    ) -> None:
        """
        :param key: encrypts the topic; its policy gains the publishers' statements.
        :param emails: addresses to subscribe; default none.
        """
        super().__init__(scope, construct_id)
        self.key = key
        self.topic = sns.Topic(self, "Topic", master_key=self.key, enforce_ssl=True)
        for service, (publish, use) in publishers(Stack.of(self)).items():
            sid = "Allow" + service.split(".")[0].title()
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    conditions=use or None,
                )
            )
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                    conditions=publish or None,
                )
            )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))


def topic_alarm(scope: Construct, construct_id: str, *, topic: sns.ITopic, **props: Any) -> cloudwatch.Alarm:
    """A CloudWatch alarm (``props`` as :class:`aws_cloudwatch.Alarm` takes them) that notifies
    ``topic`` when it goes into ALARM."""
    alarm = cloudwatch.Alarm(scope, construct_id, **props)
    alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarm
