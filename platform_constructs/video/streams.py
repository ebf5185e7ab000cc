"""The camera streams: one encrypted Kinesis Video stream per camera."""

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesisvideo as kinesisvideo
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from platform_constructs.alarm_topic import topic_alarm

MEDIA_TYPE = "video/h264"


class CameraStreams(Construct):
    """One ``AWS::KinesisVideo::Stream`` per entry of ``streams`` (camera -> stream name, the
    camera's name also being the stream's construct ID, so that adding or removing a camera never
    replaces another camera's stream), H.264,
    encrypted with ``key`` (a customer-managed key), keeping ``retention_hours`` of media so the
    sampler and viewers can read it back, removed with ``removal_policy``. With
    ``silence_alarm_minutes``, one CloudWatch alarm per stream notifies ``alarm_topic`` when the
    stream receives no fragment for that long. Exposes ``streams`` (camera -> CfnStream),
    ``arns`` (their ARNs) and ``alarms``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        streams: Mapping[str, str],
        key: kms.IKey,
        retention_hours: int,
        alarm_topic: sns.ITopic,
        silence_alarm_minutes: int | None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param streams: camera -> stream name (the camera's IoT thing has the same name).
        :param key: encrypts the media at rest.
        :param retention_hours: how long media is kept (1 hour to 10 years).
        :param alarm_topic: where the silence alarms notify.
        :param silence_alarm_minutes: alarm after this long without fragments; None: no alarm.
        :param removal_policy: of the streams (their media is data); default RETAIN.
        """
        super().__init__(scope, construct_id)
        self.streams: dict[str, kinesisvideo.CfnStream] = {}
        self.alarms: list[cloudwatch.Alarm] = []
        for camera, name in streams.items():
            stream = kinesisvideo.CfnStream(
                self,
                camera,  # the camera's own name: no other camera can rename (and so replace) it
                name=name,
                media_type=MEDIA_TYPE,
                kms_key_id=key.key_arn,
                data_retention_in_hours=retention_hours,
            )
            stream.apply_removal_policy(removal_policy)
            self.streams[camera] = stream
            if silence_alarm_minutes is not None:
                self.alarms.append(self._silence_alarm(camera, name, silence_alarm_minutes, alarm_topic))
        self.arns: Sequence[str] = [stream.attr_arn for stream in self.streams.values()]

    def _silence_alarm(self, camera: str, name: str, minutes: int, topic: sns.ITopic) -> cloudwatch.Alarm:
        """Alarm when ``name`` receives no fragment for ``minutes`` (no data counts as silence)."""
        return topic_alarm(
            self,
            f"{camera}-silent",
            topic=topic,
            alarm_description=f"Camera stream {name} received no video for {minutes} minutes",
            metric=cloudwatch.Metric(
                namespace="AWS/KinesisVideo",
                metric_name="PutMedia.IncomingFragments",
                dimensions_map={"StreamName": name},
                statistic="Sum",
                period=Duration.minutes(1),
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=minutes,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
