#!/usr/bin/env python3
"""The CDK app: the only place that reads configuration, builds the stacks, adds checks and synthesizes.

Select the environment with CDK context: ``cdk synth -c env=prod`` (default: ``dev``).
"""

from __future__ import annotations

import gc
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from config.settings import ConfigError, Settings, load_settings
from stacks.alarms_stack import AlarmsStack
from stacks.data_lake_stack import DataLakeStack
from stacks.emr_stack import EmrStack
from stacks.glue_stack import GlueStack
from stacks.network_stack import NetworkStack
from stacks.observability_stack import ObservabilityStack
from stacks.pipeline_stack import PipelineStack
from stacks.quicksight_stack import QuickSightStack
from stacks.sagemaker_stack import SageMakerStack
from stacks.studio_stack import StudioStack
from stacks.video_stack import VideoStack

DEFAULT_ENVIRONMENT = "dev"
CDK_JSON = Path(__file__).resolve().parent / "cdk.json"


@dataclass(frozen=True)
class Platform:
    """The stacks of one environment, for tests and for wiring later stacks."""

    network: NetworkStack
    data_lake: DataLakeStack
    alarms: AlarmsStack
    glue: GlueStack | None
    emr: EmrStack | None
    sagemaker: SageMakerStack | None
    studio: StudioStack | None
    video: VideoStack | None
    quicksight: QuickSightStack | None
    pipeline: PipelineStack | None
    observability: ObservabilityStack


def add_checks(app: App) -> None:
    """Run the cdk-nag AWS Solutions and NIST 800-53 rev 5 packs on every synth; a finding fails it."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app))


def build_platform(app: App, settings: Settings) -> Platform:
    """Create every stack of the environment described by ``settings``."""
    alarms = AlarmsStack(app, "Alarms", settings=settings)
    logs_key = alarms.operations_key
    network = NetworkStack(app, "Network", settings=settings, logs_key=logs_key)
    data_lake = DataLakeStack(app, "DataLake", settings=settings, alarm_topic=alarms.alarms.topic)
    glue = None
    if settings.glue.enabled:
        glue = GlueStack(
            app,
            "Glue",
            settings=settings,
            lake=data_lake.lake,
            catalog=data_lake.catalog,
            alarm_topic=alarms.alarms.topic,
            logs_key=logs_key,
        )
    emr = None
    if settings.emr.enabled:
        emr = EmrStack(
            app,
            "Emr",
            settings=settings,
            vpc=network.network.vpc,
            lake=data_lake.lake,
            catalog=data_lake.catalog,
            alarm_topic=alarms.alarms.topic,
            logs_key=logs_key,
        )
    sagemaker = None
    if settings.sagemaker.enabled:
        sagemaker = SageMakerStack(
            app,
            "SageMaker",
            settings=settings,
            vpc=network.network.vpc,
            lake=data_lake.lake,
            catalog=data_lake.catalog,
            athena=data_lake.athena,
            alarm_topic=alarms.alarms.topic,
            logs_key=logs_key,
        )
    studio = None
    if sagemaker is not None and settings.sagemaker.studio.enabled:
        studio = StudioStack(
            app,
            "Studio",
            settings=settings,
            vpc=network.network.vpc,
            lake=data_lake.lake,
            catalog=data_lake.catalog,
            athena=data_lake.athena,
            sagemaker=sagemaker,
            logs_key=logs_key,
        )
    video = None
    if settings.video.enabled:
        video = VideoStack(
            app,
            "Video",
            settings=settings,
            lake=data_lake.lake,
            alarm_topic=alarms.alarms.topic,
            logs_key=logs_key,
        )
    quicksight = None
    if settings.quicksight.enabled:
        quicksight = QuickSightStack(
            app,
            "QuickSight",
            settings=settings,
            lake=data_lake.lake,
            catalog=data_lake.catalog,
            athena=data_lake.athena,
            forecasts=settings.forecasts,
            alarm_topic=alarms.alarms.topic,
            logs_key=logs_key,
        )
    pipeline = None
    if settings.pipeline.enabled:
        pipeline = PipelineStack(
            app,
            "Pipeline",
            settings=settings,
            glue=glue,
            emr=emr,
            sagemaker=sagemaker,
            quicksight=quicksight,
            alarm_topic=alarms.alarms.topic,
            logs_key=logs_key,
        )
    observability = ObservabilityStack(
        app,
        "Observability",
        settings=settings,
        alarm_topic=alarms.alarms.topic,
        athena=data_lake.athena,
        glue=glue,
        emr=emr,
        sagemaker=sagemaker,
        video=video,
        quicksight=quicksight,
        pipeline=pipeline,
    )
    return Platform(
        network=network,
        data_lake=data_lake,
        alarms=alarms,
        glue=glue,
        emr=emr,
        sagemaker=sagemaker,
        studio=studio,
        video=video,
        quicksight=quicksight,
        pipeline=pipeline,
        observability=observability,
    )


def feature_flags() -> dict[str, Any]:
    """The context of ``cdk.json`` (feature flags), so ``python app.py`` synthesizes as ``cdk synth`` does."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return context


def create_app(settings: Settings, *, outdir: str | None = None) -> tuple[App, Platform]:
    """An app with the checks and every stack of ``settings``' environment, ready to synth."""
    # CDK's built-in CloudFormation validation is cfn-lint's schema rules compiled to WASM; the real
    # cfn-lint runs over every template in `make synth` and the tests, so skip the second pass (~1 s).
    app = App(outdir=outdir, context=feature_flags(), builtin_cloud_formation_validation=False)
    add_checks(app)
    return app, build_platform(app, settings)


def main() -> int:
    """Synthesize the environment named by the ``env`` context; print config errors without a traceback."""
    environment = App(context=feature_flags()).node.try_get_context("env") or DEFAULT_ENVIRONMENT
    try:
        settings = load_settings(environment)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    app, _ = create_app(settings)
    app.synth()
    # The process ends next: spare the interpreter's last garbage collections over the tens of
    # thousands of objects jsii and the CDK's modules hold (about 0.8 s of every synth).
    gc.freeze()
    return 0


if __name__ == "__main__":
    sys.exit(main())
