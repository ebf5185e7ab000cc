"""DataLakeStack: the stateful heart of the platform."""

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.settings import Settings
from platform_constructs.athena import AthenaWorkgroup
from platform_constructs.buckets import Housekeeping, Tiering
from platform_constructs.catalog import LakeCatalog
from platform_constructs.data_lake import DataLake
from platform_constructs.failure_alerts import FailureAlerts, key_tampering
from platform_constructs.lake_tables import LakeTables
from platform_constructs.removal import data_removal_policy
from stacks import outputs
from stacks.base import PlatformStack
from workloads.schema import CATALOG_TABLES, CATALOG_VIEWS, LEGACY_PERSONAL_DATA_PREFIXES


class DataLakeStack(PlatformStack):
    """The lake key and buckets (:class:`DataLake`), a Glue database per zone (:class:`LakeCatalog`)
    with the curated and analytics tables of the schema module (:class:`LakeTables`), and the Athena
    workgroup (:class:`AthenaWorkgroup`), configured by the ``lake`` settings; the lake key disabled
    or scheduled for deletion notifies ``alarm_topic``. Data is retained unless ``removal_policy``
    is ``destroy``. Exposes ``lake``, ``catalog``, ``tables``, ``athena`` and ``alerts``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, alarm_topic: sns.ITopic
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix=outputs.DATA_LAKE,
            description="Data science platform: data lake key, buckets, catalog, Athena",
        )
        lake = settings.lake
        removal_policy = data_removal_policy(self, destroy=settings.destroy_on_delete)
        archive = lake.lifecycle.archive_after_days
        self.lake = DataLake(
            self,
            "Lake",
            key_alias=f"alias/{settings.name_prefix}-lake",
            key_admins=settings.security.key_admins,
            tiering=Tiering(
                infrequent_access_after=Duration.days(lake.lifecycle.infrequent_access_after_days),
                archive_after=Duration.days(archive) if archive is not None else None,
            ),
            housekeeping=Housekeeping(
                noncurrent_version_expiry=Duration.days(lake.lifecycle.noncurrent_version_expiry_days),
                abort_incomplete_upload_after=Duration.days(lake.lifecycle.abort_incomplete_upload_days),
            ),
            access_log_retention=Duration.days(lake.access_log_retention_days),
            query_results_retention=Duration.days(lake.athena_results_retention_days),
            object_lock_retention=Duration.days(lake.object_lock_days) if lake.object_lock_days else None,
            removal_policy=removal_policy,
        )
        for data_class, prefix in LEGACY_PERSONAL_DATA_PREFIXES.items():  # what earlier versions left in raw
            self.lake.raw.add_lifecycle_rule(
                id=f"Expire{data_class.capitalize()}",
                prefix=prefix,
                expiration=Duration.days(settings.personal_data_retention_days),
            )
        self.alerts = FailureAlerts(
            self, "Alerts", topic=alarm_topic, alerts={"LakeKeyTampering": key_tampering([self.lake.key])}
        )
        self.catalog = LakeCatalog(
            self,
            "Catalog",
            name_prefix=settings.name_prefix,
            zones=self.lake.zones,
            removal_policy=removal_policy,
        )
        self.tables = LakeTables(
            self,
            "Tables",
            tables=CATALOG_TABLES,
            views=CATALOG_VIEWS,
            buckets=self.lake.zones,
            databases=self.catalog.databases,
            removal_policy=removal_policy,
        )
        self.athena = AthenaWorkgroup(
            self,
            "Athena",
            name=settings.name_prefix,
            results_bucket=self.lake.artifacts,
            results_prefix=self.lake.query_results_prefix,
            encryption_key=self.lake.key,
            bytes_scanned_cutoff=lake.athena_bytes_scanned_cutoff_mb * 1024 * 1024,
            removal_policy=removal_policy,
        )
        CfnOutput(
            self, outputs.RAW_BUCKET, value=self.lake.raw.bucket_name, description="The raw zone (dsp upload)"
        )
