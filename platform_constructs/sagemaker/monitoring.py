"""CloudWatch metrics and alarms of the forecast endpoint."""

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from platform_constructs.alarm_topic import topic_alarm
from platform_constructs.sagemaker.hosting import VARIANT

PERIOD = Duration.minutes(5)


def endpoint_metric(endpoint_name: str, metric_name: str, statistic: str) -> cloudwatch.Metric:
    """``metric_name`` (``AWS/SageMaker``) of the endpoint's one variant, per 5 minutes. Latencies
    are in microseconds."""
    return cloudwatch.Metric(
        namespace="AWS/SageMaker",
        metric_name=metric_name,
        dimensions_map={"EndpointName": endpoint_name, "VariantName": VARIANT},
        statistic=statistic,
        period=PERIOD,
    )


class EndpointAlarms(Construct):
    """Two alarms on the forecast endpoint that notify ``topic``: ``ServerErrors`` when any request
    of a 5-minute period failed with a 5xx, and ``Latency`` when the p90 model latency stays above
    ``latency_ms`` for 15 minutes. No traffic is not an alarm. Exposes ``server_errors`` and
    ``latency``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, endpoint_name: str, latency_ms: int, topic: sns.ITopic
    ) -> None:
        """
        :param endpoint_name: the endpoint's name.
        :param latency_ms: the p90 model latency, in milliseconds, that is too slow.
        :param topic: the platform alarm topic.
        """
        super().__init__(scope, construct_id)
        self.server_errors = topic_alarm(
            self,
            "ServerErrors",
            topic=topic,
            metric=endpoint_metric(endpoint_name, "Invocation5XXErrors", "Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"Forecast endpoint {endpoint_name} answered requests with 5xx errors",
        )
        self.latency = topic_alarm(
            self,
            "Latency",
            topic=topic,
            metric=endpoint_metric(endpoint_name, "ModelLatency", "p90"),
            threshold=latency_ms * 1000,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"Forecast endpoint {endpoint_name}: p90 model latency above {latency_ms} ms "
            "for 15 minutes",
        )
