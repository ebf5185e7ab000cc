"""The platform's CloudWatch dashboard: one row per service, from the metrics each service emits."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from platform_constructs.quicksight.data import ingestion_metric
from platform_constructs.sagemaker.monitoring import endpoint_metric
from platform_constructs.video.sampler import FrameSampler

PERIOD = Duration.minutes(5)
WIDTH, HEIGHT = 8, 6
"""Three graphs a row (the dashboard grid is 24 units wide)."""
EXECUTORS = "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors"


@dataclass(frozen=True)
class DashboardSources:
    """What the dashboard shows; a service switched off is left out (None or empty).

    :param pipeline: the end-to-end pipeline's state machine.
    :param glue_job: the ETL job.
    :param glue_dpu_per_worker: DPUs of one of its workers (1 for G.1X, 2 for G.2X, ...).
    :param dq_context: the evaluation context the ETL job publishes data-quality metrics under.
    :param feature_runs: the EMR feature runs' state machine (either engine).
    :param serverless_application: the EMR Serverless application of the feature runs (ID, name).
    :param cluster_id: the long-running EMR cluster.
    :param training: the forecast training state machine.
    :param endpoint_name: the forecast endpoint.
    :param streams: the Kinesis Video streams the frame sampler reads.
    :param workgroup: the platform's Athena workgroup.
    :param datasets: the QuickSight SPICE dataset IDs.
    """

    workgroup: str
    pipeline: sfn.IStateMachine | None = None
    glue_job: glue.IJob | None = None
    glue_dpu_per_worker: float = 1
    dq_context: str | None = None
    feature_runs: sfn.IStateMachine | None = None
    serverless_application: tuple[str, str] | None = None
    cluster_id: str | None = None
    training: sfn.IStateMachine | None = None
    endpoint_name: str | None = None
    streams: Sequence[str] = field(default_factory=tuple)
    datasets: Sequence[str] = field(default_factory=tuple)


class PlatformDashboard(Construct):
    """A CloudWatch dashboard ``dashboard_name`` with a row of graphs per service in ``sources``:
    pipeline runs and durations; Glue DPUs in use and data-quality rules passed and failed; EMR
    feature runs and the long-running cluster's state; training runs; endpoint invocations,
    latency and errors; frames sampled per stream; Athena bytes scanned; SPICE ingestions. Exposes
    ``dashboard``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, dashboard_name: str, sources: DashboardSources
    ) -> None:
        """
        :param dashboard_name: the dashboard's name, unique in the account and region.
        :param sources: the resources whose metrics it shows.
        """
        super().__init__(scope, construct_id)
        rows = [
            _runs("Pipeline runs", sources.pipeline),
            _glue(sources),
            _emr(sources),
            _runs("Forecast training runs", sources.training),
            _endpoint(sources.endpoint_name),
            _frames(sources.streams),
            _athena_and_spice(sources.workgroup, sources.datasets),
        ]
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=Duration.days(7),
            widgets=[row for row in rows if row],
        )


def _graph(
    title: str, left: Sequence[cloudwatch.IMetric], *, right: Sequence[cloudwatch.IMetric] = ()
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(left), right=list(right), width=WIDTH, height=HEIGHT)


def _runs(title: str, machine: sfn.IStateMachine | None) -> list[cloudwatch.IWidget]:
    """Started, succeeded and failed executions, and how long they took."""
    if machine is None:
        return []
    hour = Duration.hours(1)
    return [
        _graph(
            f"{title} (per hour)",
            [
                machine.metric_started(period=hour, label="started"),
                machine.metric_succeeded(period=hour, label="succeeded"),
                machine.metric_failed(period=hour, label="failed"),
                machine.metric_timed_out(period=hour, label="timed out"),
            ],
        ),
        _graph(
            f"{title}: duration (ms)",
            [
                machine.metric_time(period=hour, statistic="Average", label="average"),
                machine.metric_time(period=hour, statistic="Maximum", label="longest"),
            ],
        ),
    ]


def _glue(sources: DashboardSources) -> list[cloudwatch.IWidget]:
    """DPUs in use (executors plus the driver, times DPU per worker) and DPU-hours per period; the
    data-quality score (per cent of rules passed) with the rules passed and failed."""
    if sources.glue_job is None:
        return []
    executors = sources.glue_job.metric(
        EXECUTORS, glue.MetricType.GAUGE, statistic="Average", period=PERIOD, label="executors"
    )
    dpus = f"(executors + 1) * {sources.glue_dpu_per_worker:g}"
    widgets: list[cloudwatch.IWidget] = [
        _graph(
            "Glue ETL: DPUs in use",
            [_math(dpus, "DPUs (driver and executors)", {"executors": executors})],
            right=[
                _math(
                    f"{dpus} * PERIOD(executors) / 3600", "≈ DPU-hours per period", {"executors": executors}
                )
            ],
        )
    ]
    if sources.dq_context is not None:
        rules = {
            outcome: _search(
                f'Namespace="Glue Data Quality" MetricName="glue.data.quality.rules.{outcome}" '
                f'"{sources.dq_context}"',
                outcome,
            )
            for outcome in ("passed", "failed")
        }
        widgets.append(
            _graph(
                "Glue data quality: score (% of rules passed)",
                [_math("100 * passed / (passed + failed)", "score", rules, period=Duration.hours(1))],
                right=list(rules.values()),
            )
        )
    return widgets


def _emr(sources: DashboardSources) -> list[cloudwatch.IWidget]:
    """Feature runs (their durations are the pipeline's Features step), what the serverless
    application holds while a job runs (what it bills), and whether the long-running cluster is
    idle and how many apps run."""
    widgets = _runs("EMR feature runs", sources.feature_runs)[:1]
    if sources.serverless_application is not None:
        # From release 7.10 the application's metrics carry its ID and its name (app-job-metrics).
        application_id, application_name = sources.serverless_application
        widgets.append(
            _graph(
                "EMR Serverless feature job capacity",
                [
                    cloudwatch.Metric(
                        namespace="AWS/EMRServerless",
                        metric_name=name,
                        dimensions_map={"ApplicationId": application_id, "ApplicationName": application_name},
                        statistic="Maximum",
                        period=PERIOD,
                        label=label,
                    )
                    for name, label in (("CPUAllocated", "vCPU"), ("MemoryAllocated", "memory (GB)"))
                ],
            )
        )
    if sources.cluster_id is not None:
        widgets.append(
            _graph(
                "EMR long-running cluster",
                [
                    cloudwatch.Metric(
                        namespace="AWS/ElasticMapReduce",
                        metric_name=name,
                        dimensions_map={"JobFlowId": sources.cluster_id},
                        statistic="Maximum",
                        period=PERIOD,
                        label=label,
                    )
                    for name, label in (("IsIdle", "idle (1)"), ("AppsRunning", "apps running"))
                ],
            )
        )
    return widgets


def _endpoint(endpoint_name: str | None) -> list[cloudwatch.IWidget]:
    """Invocations, p50 and p90 model latency (ms), and 4xx and 5xx errors of the forecast endpoint."""
    if endpoint_name is None:
        return []

    def latency(statistic: str) -> cloudwatch.IMetric:
        metric = endpoint_metric(endpoint_name, "ModelLatency", statistic)
        return _math(f"{statistic} / 1000", f"{statistic} (ms)", {statistic: metric})

    return [
        _graph("Forecast endpoint: invocations", [endpoint_metric(endpoint_name, "Invocations", "Sum")]),
        _graph("Forecast endpoint: model latency (ms)", [latency("p50"), latency("p90")]),
        _graph(
            "Forecast endpoint: errors",
            [
                endpoint_metric(endpoint_name, name, "Sum")
                for name in ("Invocation4XXErrors", "Invocation5XXErrors")
            ],
        ),
    ]


def _frames(streams: Sequence[str]) -> list[cloudwatch.IWidget]:
    """Frames the sampler wrote per stream, per hour."""
    if not streams:
        return []
    return [
        _graph(
            "Video frames sampled (per hour; a retried run counts again)",
            [FrameSampler.frames_metric(stream).with_(label=stream) for stream in streams],
        )
    ]


def _athena_and_spice(workgroup: str, datasets: Sequence[str]) -> list[cloudwatch.IWidget]:
    """Bytes the workgroup's queries scanned per hour; SPICE ingestions and their failures."""
    scanned = _search(
        f'{{AWS/Athena,QueryState,QueryType,WorkGroup}} MetricName="ProcessedBytes" WorkGroup="{workgroup}"',
        f"bytes scanned ({workgroup})",
    )
    widgets: list[cloudwatch.IWidget] = [_graph("Athena: bytes scanned (per hour)", [scanned])]
    if datasets:
        widgets.append(
            _graph(
                "QuickSight SPICE ingestions (per hour)",
                [
                    ingestion_metric(dataset, name).with_(label=f"{dataset} {label}")
                    for dataset in datasets
                    for name, label in (
                        ("IngestionInvocationCount", "started"),
                        ("IngestionErrorCount", "failed"),
                    )
                ],
            )
        )
    return widgets


def _math(
    expression: str, label: str, metrics: Mapping[str, cloudwatch.IMetric], *, period: Duration = PERIOD
) -> cloudwatch.IMetric:
    """``expression`` over ``metrics`` (named by their keys), per ``period``."""
    return cloudwatch.MathExpression(expression=expression, using_metrics=metrics, label=label, period=period)


def _search(query: str, label: str) -> cloudwatch.IMetric:
    """The sum of every metric a CloudWatch ``SEARCH`` for ``query`` finds, per hour."""
    return cloudwatch.MathExpression(
        expression=f"SUM(SEARCH('{query}', 'Sum', 3600))", label=label, period=Duration.hours(1)
    )
