"""Dead-letter queues that alarm: events a target could not take are kept and reported."""

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from platform_constructs.alarm_topic import topic_alarm


def alarmed_dead_letters(
    scope: Construct, construct_id: str, *, topic: sns.ITopic, description: str, of_target: bool = True
) -> tuple[sqs.Queue, cloudwatch.Alarm]:
    """An SQS dead-letter queue ``construct_id`` (SQS-managed encryption, TLS only, messages kept 14
    days) and its alarm ``<construct_id>Alarm``, which notifies ``topic`` with ``description`` as
    soon as the queue holds a message. ``of_target``: it takes what an EventBridge rule or schedule
    target could not, which cdk-nag does not see (it knows only Lambda and SQS dead-letter queues),
    so its "no dead-letter queue" finding is acknowledged; False for a Lambda function's."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    if of_target:
        Validations.of(queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason="It is itself the dead-letter queue of an EventBridge target, which cdk-nag cannot "
                "see; a dead-letter queue of its own would hold nothing.",
            )
        )
    alarm = topic_alarm(
        scope,
        f"{construct_id}Alarm",
        topic=topic,
        alarm_description=description,
        metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    return queue, alarm
