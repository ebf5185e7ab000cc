"""GlueStack: raw uploads to curated data, cataloged, cleaned and checked."""

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.settings import Settings
from platform_constructs.catalog import LakeCatalog
from platform_constructs.data_lake import DataLake
from platform_constructs.failure_alerts import FailureAlerts
from platform_constructs.glue.crawler import RawCrawler
from platform_constructs.glue.encryption import GlueEncryption
from platform_constructs.glue.etl_job import CleaningJob, JobSizing
from platform_constructs.glue.workflow import IngestWorkflow
from platform_constructs.log_retention import RETENTION_BY_DAYS
from platform_constructs.removal import data_removal_policy
from stacks import outputs
from stacks.base import PlatformStack
from workloads.glue.quality import EVALUATION_CONTEXT
from workloads.schema import RAW_STORES, RAW_TRANSACTIONS, TEMPORARY_FILE_PATTERNS


class GlueStack(PlatformStack):
    """The Glue service, configured by the ``glue`` settings: a security configuration
    (:class:`GlueEncryption`), the raw-zone crawler (:class:`RawCrawler`), the ETL job with its
    data-quality ruleset (:class:`CleaningJob`), the workflow that chains them
    (:class:`IngestWorkflow`), and rules that send job, crawler and data-quality failures to the
    platform alarm topic (:class:`FailureAlerts`). Exposes ``encryption``, ``crawler``, ``job``,
    ``workflow`` and ``alerts``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        lake: DataLake,
        catalog: LakeCatalog,
        alarm_topic: sns.ITopic,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix=outputs.GLUE,
            description="Data science platform: Glue crawler, ETL job, data quality, workflow",
        )
        config = settings.glue
        removal_policy = data_removal_policy(self, destroy=settings.destroy_on_delete)
        self.encryption = GlueEncryption(
            self,
            "Encryption",
            name=f"{settings.name_prefix}-glue",
            data_key=lake.key,
            logs_key=logs_key,
            removal_policy=removal_policy,
        )
        self.crawler = RawCrawler(
            self,
            "RawCrawler",
            bucket=lake.raw,
            prefixes=[table.prefix for table in (*RAW_TRANSACTIONS.values(), RAW_STORES)],
            database=catalog.database_names["raw"],
            exclusions=TEMPORARY_FILE_PATTERNS,
            security_configuration=self.encryption.configuration,
            logs_key=self.encryption.key,
        )
        self.job = CleaningJob(
            self,
            "CleaningJob",
            raw=lake.raw,
            curated=lake.curated,
            artifacts=lake.artifacts,
            curated_database=catalog.database_names["curated"],
            ruleset_name=f"{settings.name_prefix}-curated-transactions",
            sizing=JobSizing(
                worker_type=glue.WorkerType[config.worker_type.replace(".", "_")],
                max_workers=config.max_workers,
                timeout=Duration.minutes(config.timeout_minutes),
                max_retries=config.max_retries,
            ),
            freshness_hours=config.freshness_hours,
            security_configuration=self.encryption.configuration,
            logs_key=self.encryption.key,
            log_retention=RETENTION_BY_DAYS[config.log_retention_days],
            alarm_topic=alarm_topic,
            removal_policy=removal_policy,
        )
        self.workflow = IngestWorkflow(
            self, "Ingest", crawler=self.crawler.crawler, job=self.job.job, schedule=config.schedule
        )
        job_name, crawler_name = self.job.job.job_name, self.crawler.crawler.ref
        self.alerts = FailureAlerts(
            self,
            "Alerts",
            topic=alarm_topic,
            alerts={
                "JobFailed": (
                    events.EventPattern(
                        source=["aws.glue"],
                        detail_type=["Glue Job State Change"],
                        detail={"jobName": [job_name], "state": ["FAILED", "TIMEOUT", "STOPPED", "ERROR"]},
                    ),
                    "Glue job failed: <detail.jobName> run <detail.jobRunId> is <detail.state>: "
                    "<detail.message>",
                ),
                "CrawlerFailed": (
                    events.EventPattern(
                        source=["aws.glue"],
                        detail_type=["Glue Crawler State Change"],
                        detail={"crawlerName": [crawler_name], "state": ["Failed"]},
                    ),
                    "Glue crawler failed: <detail.crawlerName>: <detail.errorMessage>",
                ),
                "DataQualityFailed": (
                    events.EventPattern(
                        source=["aws.glue-dataquality"],
                        detail_type=["Data Quality Evaluation Results Available"],
                        detail={
                            "state": ["FAILED"],
                            "context": {"jobName": [job_name], "evaluationContext": [EVALUATION_CONTEXT]},
                        },
                    ),
                    "Glue data quality failed: <detail.context.jobName> score <detail.score>, "
                    "<detail.numRulesFailed> rules failed (result <detail.resultId>)",
                ),
            },
        )
        CfnOutput(self, outputs.ETL_JOB, value=job_name, description="The ETL job")
        CfnOutput(self, outputs.CRAWLER, value=crawler_name, description="The raw zone's crawler")
