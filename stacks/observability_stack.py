"""ObservabilityStack: the platform's CloudWatch dashboard and its monthly budget."""

from aws_cdk import CfnOutput
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.settings import GLUE_DPU_PER_WORKER, Settings
from platform_constructs.athena import AthenaWorkgroup
from platform_constructs.budget import PlatformBudget
from platform_constructs.platform_dashboard import DashboardSources, PlatformDashboard
from stacks.base import PlatformStack
from stacks.emr_stack import EmrStack
from stacks.glue_stack import GlueStack
from stacks.outputs import BUDGET_TAGS
from stacks.pipeline_stack import PipelineStack
from stacks.quicksight_stack import QuickSightStack
from stacks.sagemaker_stack import SageMakerStack
from stacks.video_stack import VideoStack
from workloads.glue.quality import EVALUATION_CONTEXT


class ObservabilityStack(PlatformStack):
    """What watches the whole platform: the CloudWatch dashboard ``<prefix>-<env>-platform``
    (:class:`PlatformDashboard`, a row per service that is switched on) and, when
    ``budget.enabled``, the monthly budget ``<prefix>-<env>-monthly`` (:class:`PlatformBudget`)
    over the ``project`` and ``environment`` cost-allocation tags, notifying the alarm topic. It
    comes after the service stacks; their own failure signals are routed where they are made.
    Exposes ``dashboard`` and ``budget`` (None when off)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        alarm_topic: sns.ITopic,
        athena: AthenaWorkgroup,
        glue: GlueStack | None,
        emr: EmrStack | None,
        sagemaker: SageMakerStack | None,
        video: VideoStack | None,
        quicksight: QuickSightStack | None,
        pipeline: PipelineStack | None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix="observability",
            description="Data science platform: dashboard and budget",
        )
        name = settings.name_prefix
        dashboard_name = f"{name}-platform"
        cluster = emr.cluster if emr else None
        sources = DashboardSources(
            workgroup=athena.name,
            pipeline=pipeline.pipeline.state_machine if pipeline else None,
            glue_job=glue.job.job if glue else None,
            glue_dpu_per_worker=GLUE_DPU_PER_WORKER[settings.glue.worker_type],
            dq_context=EVALUATION_CONTEXT if glue else None,
            feature_runs=emr.feature_run.state_machine if emr else None,
            serverless_application=(
                (emr.serverless.application.attr_application_id, emr.serverless.application_name)
                if emr and emr.serverless
                else None
            ),
            cluster_id=cluster.cluster.ref if cluster else None,
            training=sagemaker.training.state_machine if sagemaker else None,
            endpoint_name=sagemaker.endpoint.endpoint_name if sagemaker else None,
            streams=[settings.stream_name(camera) for camera in settings.video.cameras] if video else (),
            datasets=[dataset.dataset_id for dataset in quicksight.datasets.values()] if quicksight else (),
        )
        self.dashboard = PlatformDashboard(self, "Dashboard", dashboard_name=dashboard_name, sources=sources)
        CfnOutput(self, "DashboardName", value=dashboard_name, description="CloudWatch > Dashboards")
        self.budget: PlatformBudget | None = None
        if settings.budget.enabled:
            config = settings.budget
            self.budget = PlatformBudget(
                self,
                "Budget",
                budget_name=f"{name}-monthly",
                monthly_usd=config.monthly_usd,
                tags={key: settings.resource_tags[key] for key in BUDGET_TAGS},
                actual_percent=config.actual_percent,
                forecast_percent=config.forecast_percent,
                topic=alarm_topic,
            )
