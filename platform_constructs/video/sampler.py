"""The frame sampler: a scheduled function that copies camera frames into their own bucket."""

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from platform_constructs.alarm_topic import topic_alarm
from platform_constructs.dead_letters import alarmed_dead_letters
from platform_constructs.lambda_functions import ARCHITECTURE, RUNTIME
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards
from platform_constructs.personal_data import PersonalDataStore
from platform_constructs.python_modules import entry_modules, stage_modules
from platform_constructs.video.access import via_kinesis_video

HANDLER = "workloads/video/frame_sampler.py"
METRICS_NAMESPACE = "DataSciencePlatform/FrameSampler"
"""Where the function's per-stream counts (``FramesWritten``, ``FramesFailed``; dimension ``Stream``) go."""


class FrameSampler(Construct):
    """A function (:mod:`workloads.video.frame_sampler`) that EventBridge runs on ``schedule``:
    each run copies one JPEG frame every ``sampling_interval`` of the last ``window`` of every
    stream in ``streams`` (name -> ARN) into ``frames``, whose one writer it is. It may call only
    ``GetDataEndpoint`` and ``GetImages`` on those streams, decrypt ``stream_key`` only through
    Kinesis Video, and put (never read) frames. It reserves ``reserved_concurrency``
    (default none: a new account's quota of 10 leaves none to reserve, and runs that overlap write
    the same objects, as keys come from each frame's time). X-Ray tracing, logs encrypted with
    ``logs_key`` and kept ``log_retention``; failed runs are retried twice, then kept in an
    encrypted dead-letter queue (14 days). Alarms on errors, throttles and dead letters notify
    ``alarm_topic``. Each run's frame counts per stream become CloudWatch metrics in
    :data:`METRICS_NAMESPACE` (see :meth:`frames_metric`). Exposes ``function``, ``rule``,
    ``dead_letters`` and ``alarms``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        streams: dict[str, str],
        stream_key: kms.IKey,
        frames: PersonalDataStore,
        schedule: str,
        window: Duration,
        sampling_interval: Duration,
        alarm_topic: sns.ITopic,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        reserved_concurrency: int | None = None,
    ) -> None:
        """
        :param streams: stream name -> stream ARN.
        :param stream_key: the streams' key.
        :param frames: where frames go.
        :param schedule: an EventBridge ``rate()`` or ``cron()`` expression.
        :param window: how far back each run reads.
        :param sampling_interval: one frame per this interval (at least 200 ms).
        :param alarm_topic: where the alarms notify.
        :param logs_key: encrypts the function's log group.
        :param log_retention: how long its logs are kept.
        :param removal_policy: of the log group; default RETAIN.
        :param reserved_concurrency: concurrency reserved for the function; default none.
        """
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self, "Logs", encryption_key=logs_key, retention=log_retention, removal_policy=removal_policy
        )
        self.dead_letters, dead_letters_alarm = alarmed_dead_letters(
            self,
            "DeadLetters",
            topic=alarm_topic,
            description="Frame sampler: deadletters (see its logs)",
            of_target=False,
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Samples camera frames",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description="Copies camera frames from Kinesis Video into their bucket",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="workloads.video.frame_sampler.handler",
            code=lambda_.Code.from_asset(str(stage_modules(entry_modules(HANDLER)))),
            memory_size=512,
            timeout=Duration.minutes(15),  # the settings keep a run within 3000 frames
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=reserved_concurrency,
            dead_letter_queue=self.dead_letters,
            retry_attempts=2,
            max_event_age=Duration.hours(1),
            environment={
                "BUCKET": frames.bucket.bucket_name,
                "SAMPLING_INTERVAL_MS": str(int(sampling_interval.to_milliseconds())),
                "METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kinesisvideo:GetDataEndpoint", "kinesisvideo:GetImages"],
                resources=list(streams.values()),
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[stream_key.key_arn],
                conditions=via_kinesis_video(Stack.of(self)),
            )
        )
        frames.grant_write(role)
        log_group.grant_write(role)
        self.rule = events.Rule(
            self,
            "Schedule",
            description="Samples camera frames into their bucket",
            schedule=events.Schedule.expression(schedule),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                self.function,
                event=events.RuleTargetInput.from_object(
                    {
                        "streams": sorted(streams),
                        "end": events.EventField.time,
                        "window_minutes": int(window.to_minutes()),
                    }
                ),
            )
        )
        acknowledge_wildcards(
            role,
            reason="New frames get new keys in the frames bucket (the role may only put there); the "
            "function's own log streams; X-Ray's trace actions, which take no resource.",
            resources=[frames.bucket.arn_for_objects("*"), log_group.log_group_arn, "*"],
        )
        acknowledge_own_policy(
            role, "The sampler's own role: two read actions on the streams and puts of frames."
        )
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
                reason="Kinesis Video Streams has no VPC endpoint for GetImages, and dev's private "
                "subnets have no NAT: the function calls AWS APIs only, over TLS, from Lambda's network.",
            )
        )
        if reserved_concurrency is None:
            Validations.of(self.function).acknowledge(
                Acknowledgment(
                    id="NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
                    reason="Reserving concurrency fails to deploy in an account at the new-account "
                    "quota of 10; runs that overlap (a slow run and the next, a retry) write each frame "
                    "under a key from its own time, so overlap duplicates no object. "
                    "Opt in with video.sampler.reserved_concurrency.",
                )
            )
        self.alarms = [
            self._alarm("Errors", self.function.metric_errors(period=Duration.minutes(5)), alarm_topic),
            self._alarm("Throttles", self.function.metric_throttles(period=Duration.minutes(5)), alarm_topic),
            dead_letters_alarm,
        ]

    @staticmethod
    def frames_metric(stream: str, metric_name: str = "FramesWritten") -> cloudwatch.Metric:
        """One of the function's per-stream counts, summed per hour."""
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"Stream": stream},
            statistic="Sum",
            period=Duration.hours(1),
        )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, topic: sns.ITopic) -> cloudwatch.Alarm:
        """Alarm on any ``name`` in five minutes, notifying ``topic``."""
        return topic_alarm(
            self,
            f"{name}Alarm",
            topic=topic,
            alarm_description=f"Frame sampler: {name.lower()} (see its logs)",
            metric=metric,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
