"""PipelineStack: one run from raw data to a refreshed dashboard."""

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from config.settings import Settings
from platform_constructs.failure_alerts import FailureAlerts, failed_executions
from platform_constructs.log_retention import RETENTION_BY_DAYS
from platform_constructs.pipeline import PipelineSteps, PlatformPipeline
from platform_constructs.removal import data_removal_policy
from stacks import outputs
from stacks.base import PlatformStack
from stacks.emr_stack import EmrStack
from stacks.glue_stack import GlueStack
from stacks.quicksight_stack import QuickSightStack
from stacks.sagemaker_stack import SageMakerStack
from workloads.sagemaker.contract import days_needed


class PipelineStack(PlatformStack):
    """The end-to-end pipeline (:class:`PlatformPipeline`) over the stacks of the enabled services:
    the Glue crawler and ETL job, the EMR feature run (serverless or transient), SageMaker
    training and the Forecast step (with the feature run, which writes what it scores),
    QuickSight's datasets; a service that is off is left out of the definition. Step
    time limits follow each service's settings; failed, timed-out or aborted runs reach the alarm
    topic with the step, the date and the cause. The Features step recomputes the days training needs
    (:func:`~workloads.sagemaker.contract.days_needed` of the held-out days) up to the run's date.
    It addresses the EMR and SageMaker state machines and the QuickSight datasets by their
    deterministic names and does not depend on those stacks: one that fails to deploy blocks
    nothing else, and a run started before it exists fails at its step naming it. Exposes
    ``pipeline`` and ``alerts``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        glue: GlueStack | None,
        emr: EmrStack | None,
        sagemaker: SageMakerStack | None,
        quicksight: QuickSightStack | None,
        alarm_topic: sns.ITopic,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix=outputs.PIPELINE,
            description="Data science platform: the end-to-end pipeline",
        )
        config = settings.pipeline
        removal_policy = data_removal_policy(self, destroy=settings.destroy_on_delete)
        training = settings.sagemaker.training
        timeouts = {
            "CleanRun": Duration.minutes(settings.glue.timeout_minutes),
            "Clean": Duration.minutes(
                settings.glue.timeout_minutes + 15
            ),  # a share of the run's limit; Glue's own timeout bounds the step
            "Features": Duration.minutes(settings.emr.step_timeout_minutes + 90),  # cluster start and stop
            "Train": Duration.minutes(training.max_runtime_minutes * (2 if training.spot else 1) + 180),
            "Forecast": Duration.minutes(settings.sagemaker.forecast.max_runtime_minutes + 90),
        }
        self.pipeline = PlatformPipeline(
            self,
            "Pipeline",
            steps=PipelineSteps(
                crawler=glue.crawler.crawler.ref if glue else None,
                etl_job=glue.job.job.job_name if glue else None,
                features=self._by_name("Features", emr.feature_run.state_machine_name) if emr else None,
                training=self._by_name("Train", sagemaker.training.state_machine_name) if sagemaker else None,
                forecast=self._by_name("Forecast", sagemaker.scoring.state_machine_name)
                if sagemaker and settings.forecasts
                else None,
                datasets=[dataset.data_set.data_set_id or "" for dataset in quicksight.datasets.values()]
                if quicksight
                else [],
                timeouts=timeouts,
                feature_days=days_needed(training.hyperparameters.validation_days) if sagemaker else 1,
            ),
            utc_offset=config.utc_offset,
            schedule=config.schedule,
            time_zone=config.timezone,
            alarm_topic=alarm_topic,
            logs_key=logs_key,
            log_retention=RETENTION_BY_DAYS[config.log_retention_days],
            removal_policy=removal_policy,
        )
        self.alerts = FailureAlerts(
            self,
            "Alerts",
            topic=alarm_topic,
            alerts={
                "RunFailed": (
                    failed_executions(self.pipeline.state_machine),
                    "Pipeline run failed: execution <detail.name> is <detail.status> "
                    "(<detail.error>: <detail.cause>): <detail.executionArn>",
                )
            },
        )
        CfnOutput(
            self,
            outputs.RUNS,
            value=self.pipeline.state_machine.state_machine_arn,
            description="Start a run",
        )

    def _by_name(self, step: str, name: str) -> sfn.IStateMachine:
        """The state machine ``name`` of another stack, addressed by name in this stack's account
        and region: no reference to that stack, and so no deployment order after it."""
        return sfn.StateMachine.from_state_machine_name(self, f"{step}Machine", name)
