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

PUBLISHERS = ("events.amazonaws.com", "cloudwatch.amazonaws.com", "budgets.amazonaws.com")
"""AWS services that publish alarms: EventBridge rules, CloudWatch alarms and AWS Budgets."""


class AlarmTopic(Construct):
    """An SNS topic for platform alarms, encrypted with ``key``, TLS-only.

    EventBridge, CloudWatch and AWS Budgets of this account may publish to it (topic policy) and
    use its key (a statement added to the key policy), both conditioned on ``aws:SourceAccount``.
    Each address in ``emails`` is subscribed (AWS mails a confirmation first). Exposes ``topic``
    and ``key``.
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
        :param key: encrypts the topic; its policy gains the publishers' statement.
        :param emails: addresses to subscribe; default none.
        """
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        services = [iam.ServicePrincipal(service) for service in PUBLISHERS]
        from_this_account = {"StringEquals": {"aws:SourceAccount": account}}
        self.key = key
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmPublishers",
                principals=services,
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=from_this_account,
            )
        )
        self.topic = sns.Topic(self, "Topic", master_key=self.key, enforce_ssl=True)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmPublishers",
                principals=services,
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=from_this_account,
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
