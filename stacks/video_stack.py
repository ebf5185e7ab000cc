"""VideoStack: camera streams, device and viewer access, and the frame sampler."""

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.settings import Settings
from platform_constructs.data_lake import DataLake
from platform_constructs.failure_alerts import FailureAlerts, key_tampering
from platform_constructs.keys import rotating_key
from platform_constructs.log_retention import RETENTION_BY_DAYS
from platform_constructs.removal import data_removal_policy
from platform_constructs.video.access import CameraAccess
from platform_constructs.video.sampler import FrameSampler
from platform_constructs.video.streams import CameraStreams
from stacks import outputs
from stacks.base import PlatformStack, personal_data_store


class VideoStack(PlatformStack):
    """Kinesis Video, configured by the ``video`` settings: a stream per camera under a rotating
    customer-managed key (:class:`CameraStreams`, with silence alarms where configured), device
    access through AWS IoT's credentials provider and a viewer role (:class:`CameraAccess`), and
    the scheduled frame sampler (:class:`FrameSampler`) writing JPEG frames into a bucket of their
    own under the stream key (:class:`PersonalDataStore`), which only
    ``security.personal_data_readers.frames`` may read, deleted after
    ``lake.personal_data_retention_days``. Failures, silence and the stream key disabled or
    scheduled for deletion notify the alarm topic. Exposes ``key``, ``streams``, ``access``,
    ``frames``, ``sampler`` and ``alerts``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        lake: DataLake,
        alarm_topic: sns.ITopic,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix=outputs.VIDEO,
            description="Data science platform: Kinesis Video camera streams, device access, frame sampler",
        )
        config = settings.video
        removal_policy = data_removal_policy(self, destroy=settings.destroy_on_delete)
        self.key = rotating_key(
            self,
            "StreamKey",
            description="Encrypts the camera streams' media and the frames sampled from them",
            alias=f"alias/{settings.name_prefix}-video",
            admins=settings.security.key_admins,
            removal_policy=removal_policy,
        )
        # frames are camera imagery, as the video they come from: the stream key encrypts both
        self.frames = personal_data_store(
            self, "frames", settings=settings, key=self.key, lake=lake, removal_policy=removal_policy
        )
        self.alerts = FailureAlerts(
            self,
            "Alerts",
            topic=alarm_topic,
            alerts={"StreamKeyTampering": key_tampering([self.key])},
        )
        names = {camera: settings.stream_name(camera) for camera in config.cameras}
        self.streams = CameraStreams(
            self,
            "Streams",
            streams=names,
            key=self.key,
            retention_hours=config.retention_hours,
            alarm_topic=alarm_topic,
            silence_alarm_minutes=config.no_fragments_alarm_minutes,
            removal_policy=removal_policy,
        )
        self.access = CameraAccess(
            self,
            "Access",
            name_prefix=settings.name_prefix,
            stream_arns=self.streams.arns,
            key=self.key,
            credential_duration=Duration.seconds(config.credential_duration_seconds),
            viewers=config.viewer.principals,
            foreign_conditions=config.viewer.conditions,
            session_urls=config.viewer.session_urls,
        )
        self.sampler = FrameSampler(
            self,
            "Sampler",
            streams={name: self.streams.streams[camera].attr_arn for camera, name in names.items()},
            stream_key=self.key,
            frames=self.frames,
            schedule=config.sampler.schedule,
            window=Duration.minutes(config.sampler.window_minutes),
            sampling_interval=Duration.millis(config.sampler.sampling_interval_ms),
            alarm_topic=alarm_topic,
            logs_key=logs_key,
            log_retention=RETENTION_BY_DAYS[config.log_retention_days],
            removal_policy=removal_policy,
            reserved_concurrency=config.sampler.reserved_concurrency,
        )
        exported = {
            "RoleAlias": (
                self.access.role_alias.role_alias or "",
                "IoT role alias cameras exchange their certificate for",
            ),
            "IotPolicy": (self.access.iot_policy.ref, "IoT policy to attach to each camera's certificate"),
            outputs.STREAMS: (",".join(names.values()), "The camera streams"),
            outputs.FRAMES: (f"s3://{self.frames.bucket.bucket_name}/", "Where sampled frames land"),
        }
        if self.access.consumer_role is not None:
            exported["ConsumerRoleArn"] = (self.access.consumer_role.role_arn, "Assume to watch the streams")
        for output_id, (value, description) in exported.items():
            CfnOutput(self, output_id, value=value, description=description)
