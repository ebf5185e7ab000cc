"""The PySpark ETL job that cleans raw uploads into the curated zone, with its data-quality gate."""

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

from platform_constructs.alarm_topic import topic_alarm
from platform_constructs.glue.permissions import GlueRole
from platform_constructs.python_modules import ROOT, modules_asset, workload_modules
from workloads.glue import discovery, quality
from workloads.schema import CURATED_TRANSACTIONS, RAW_STORES, RAW_TRANSACTIONS

SCRIPT = "workloads/glue/etl_job.py"
DQ_RESULTS_PREFIX = "data-quality/"
LOG_STREAMS = ("output", "error")
"""The log groups a Glue 5 job writes: stdout/stderr of the script, and system and Spark logs."""
SPARK_UI_PREFIX = "/glue/spark-ui"
"""Where Spark UI event logs go in the artifacts bucket (the Glue L2 wants a leading slash)."""
METRICS_NAMESPACE = "DataSciencePlatform/GlueEtl"
"""Namespace of the metrics the job's log lines become (one metric name per job)."""


@dataclass(frozen=True)
class JobSizing:
    """Workers and limits of one job.

    :param worker_type: Glue worker type.
    :param max_workers: auto scaling ceiling (at least 2).
    :param timeout: a run is stopped after this long.
    :param max_retries: retries of a failed run.
    """

    worker_type: glue.WorkerType
    max_workers: int
    timeout: Duration
    max_retries: int


class CleaningJob(Construct):
    """A Glue 5.1 PySpark job running :mod:`workloads.glue.etl_job` over one day's raw uploads.

    Script and its modules are CDK assets; worker type, auto-scaling ceiling, timeout and retries
    come from ``sizing``; job bookmarks, metrics and observability metrics are on, one run at a
    time; its output and error logs go to two log groups it creates, encrypted with ``logs_key``
    and kept for ``log_retention``;
    Spark UI event logs and data-quality results go to ``artifacts``; everything it writes is
    encrypted through ``security_configuration``. It also defines the data-quality ruleset of the
    curated table (the same DQDL the job evaluates), and an alarm notifying ``alarm_topic`` when a
    run logs uploads it left out for having no valid ``ingest_date=`` folder
    (:data:`workloads.glue.discovery.STRAY_UPLOAD` lines in the output log group). The role reads
    ``raw``, reads and writes ``curated``, writes its prefixes of ``artifacts``, publishes
    data-quality results; no AWS managed policy. Exposes ``job``, ``role``, ``ruleset``,
    ``log_groups`` (``output``/``error`` -> log group) and ``stray_uploads_alarm``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        raw: s3.IBucket,
        curated: s3.IBucket,
        artifacts: s3.IBucket,
        curated_database: str,
        ruleset_name: str,
        sizing: JobSizing,
        freshness_hours: int | None,
        security_configuration: glue.ISecurityConfiguration,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        alarm_topic: sns.ITopic,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param raw: the raw zone bucket (read).
        :param curated: the curated zone bucket (read and written).
        :param artifacts: bucket for Spark UI logs and data-quality results.
        :param curated_database: Glue database of the curated table.
        :param ruleset_name: name of the data-quality ruleset.
        :param sizing: workers and limits.
        :param freshness_hours: age the newest curated sale may have; None: no freshness rule.
        :param security_configuration: encrypts S3 output, logs and bookmarks.
        :param logs_key: the key of that configuration's CloudWatch and bookmark encryption.
        :param log_retention: how long job logs are kept.
        :param alarm_topic: where the alarm on uploads without a valid ingest day notifies.
        :param removal_policy: of the log group and ruleset; default RETAIN.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = GlueRole(self, "Role", description="Runs the Glue ETL job: raw zone to curated zone")
        for table in (*RAW_TRANSACTIONS.values(), RAW_STORES):  # the uploads and the store list only
            self.role.read(raw, f"{table.prefix}*")
        self.role.read_write(curated)
        self.role.read_write(artifacts, f"{DQ_RESULTS_PREFIX}*")
        self.role.read_write(artifacts, f"{SPARK_UI_PREFIX.lstrip('/')}/*")
        self.role.write_encrypted_logs(logs_key)
        log_prefix = f"/aws-glue/jobs/{security_configuration.security_configuration_name}-etl"
        self.log_groups = {
            stream: logs.LogGroup(
                self,
                f"{stream.title()}Logs",
                log_group_name=f"{log_prefix}/{stream}",
                encryption_key=logs_key,
                retention=log_retention,
                removal_policy=removal_policy,
            )
            for stream in LOG_STREAMS
        }
        self.stray_uploads_alarm = self._stray_uploads_alarm(
            f"{security_configuration.security_configuration_name}-stray-uploads", alarm_topic
        )
        rules = quality.table_rules(CURATED_TRANSACTIONS, freshness_hours=freshness_hours)
        self.ruleset = glue.DataQualityRuleset(
            self,
            "Ruleset",
            ruleset_name=ruleset_name,
            description="Completeness, key uniqueness, value ranges and freshness of curated transactions",
            dqdl=glue.Dqdl.from_string(quality.dqdl(rules)),
            target_table=glue.DataQualityTargetTable.from_table_name(
                glue.Database.from_database_arn(
                    self,
                    "CuratedDatabase",
                    stack.format_arn(service="glue", resource="database", resource_name=curated_database),
                ),
                CURATED_TRANSACTIONS.name,
            ),
            removal_policy=removal_policy,
        )
        rulesets = stack.format_arn(service="glue", resource="dataQualityRuleset", resource_name="*")
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["glue:PublishDataQuality"], resources=[rulesets])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": ["Glue", "Glue Data Quality"]}},
            )
        )
        self.role.use_catalog(["glue:GetDatabase", "glue:GetTable"], [curated_database])
        script = s3_assets.Asset(self, "Script", path=str(ROOT / SCRIPT))
        modules = modules_asset(self, "Modules", modules=workload_modules(SCRIPT))
        for asset in (script, modules):
            self.role.read_asset(asset)
        self.role.acknowledge_wildcards(
            "Objects of raw's upload and store-list prefixes (read) and curated (read, write, delete: "
            "partitions are replaced); only "
            "the data-quality and Spark UI prefixes of artifacts; tables of the curated database; "
            "PutMetricData (which has no resource type) limited by namespace; data-quality results of "
            "the account's rulesets (the job publishes under an evaluation context, not a ruleset).",
            resources=[rulesets, "*"],
        )
        self.job = glue.PySparkEtlJob(
            self,
            "Job",
            # The grants above are the whole policy: the L2's own (wildcard) grants are not wanted.
            role=self.role.without_policy_updates(),
            description="Cleans a day of raw uploads into curated Parquet; quarantines rejected lines",
            script=glue.Code.from_bucket(script.bucket, script.s3_object_key),
            extra_python_files=[glue.Code.from_bucket(modules.bucket, modules.s3_object_key)],
            glue_version=glue.GlueVersion.V5_1,
            worker_configuration=glue.WorkerConfiguration(
                worker_type=sizing.worker_type, number_of_workers=sizing.max_workers
            ),
            timeout=sizing.timeout,
            max_retries=sizing.max_retries,
            max_concurrent_runs=1,
            security_configuration=security_configuration,
            # Glue 5 logs in real time to <prefix>/output and <prefix>/error; the L2's continuous
            # logging arguments are the Glue 4 mechanism.
            continuous_logging=glue.ContinuousLoggingProps(enabled=False),
            spark_ui=glue.SparkUIProps(bucket=artifacts, prefix=SPARK_UI_PREFIX),
            default_arguments={
                "--job-bookmark-option": "job-bookmark-enable",
                "--enable-auto-scaling": "true",
                "--custom-logGroup-prefix": log_prefix,
                "--raw_url": raw.s3_url_for_object(),
                "--curated_url": curated.s3_url_for_object(),
                "--dq_results_url": artifacts.s3_url_for_object(DQ_RESULTS_PREFIX),
                "--ingest_dates": "new",
                "--freshness_hours": "none" if freshness_hours is None else str(freshness_hours),
            },
        )

    def _stray_uploads_alarm(self, metric_name: str, topic: sns.ITopic) -> cloudwatch.Alarm:
        """Count the run's :data:`~workloads.glue.discovery.STRAY_UPLOAD` lines (the script's
        stdout, which Glue 5 sends to the ``output`` group) and alarm on any, notifying ``topic``."""
        output = self.log_groups["output"]
        lines = output.add_metric_filter(
            "StrayUploads",
            filter_pattern=logs.FilterPattern.all_terms(discovery.STRAY_UPLOAD),
            metric_namespace=METRICS_NAMESPACE,
            metric_name=metric_name,
            metric_value="1",
        )
        return topic_alarm(
            self,
            "StrayUploadsAlarm",
            topic=topic,
            alarm_description=(
                "The Glue ETL job left out uploads that are not in a valid ingest_date=YYYY-MM-DD "
                f"folder. Its output log group ({output.log_group_name}) has one "
                f"'{discovery.STRAY_UPLOAD} <path>: <why>' line per file; move each file into the "
                "folder of its day (a new key, which the next run takes)."
            ),
            metric=lines.metric(statistic="Sum", period=Duration.minutes(5)),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
