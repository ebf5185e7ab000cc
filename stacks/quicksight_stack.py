"""QuickSightStack: BI over the lake through Athena."""

from aws_cdk import CfnOutput
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_quicksight as quicksight
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.settings import RefreshSettings, Settings
from platform_constructs.alarm_topic import topic_alarm
from platform_constructs.athena import AthenaWorkgroup
from platform_constructs.catalog import LakeCatalog
from platform_constructs.data_lake import DataLake
from platform_constructs.log_retention import RETENTION_BY_DAYS
from platform_constructs.quicksight.dashboard import SalesDashboard
from platform_constructs.quicksight.data import AthenaDataSource, SpiceDataset, ingestion_metric
from platform_constructs.quicksight.groups import QuickSightGroups
from platform_constructs.removal import data_removal_policy
from stacks import outputs
from stacks.base import PlatformStack
from workloads.schema import (
    CURATED_TRANSACTIONS,
    FORECAST_ACCURACY,
    FORECASTS_VS_ACTUALS,
    STORE_DAILY_FEATURES,
    Table,
    View,
)

SALE_DAY = "parseDate({sale_date}, 'yyyy-MM-dd')"
"""The partition's day string as a date, for time axes and filters."""
FORECAST_DAY = "parseDate({forecast_date}, 'yyyy-MM-dd')"
TITLES = {
    "sales": "Sales lines (curated)",
    "daily": "Daily store sales (analytics)",
    "forecasts": "Forecasts against actuals (analytics)",
    "accuracy": "Forecast accuracy per day (analytics)",
}


def refresh_frequency(refresh: RefreshSettings) -> quicksight.CfnRefreshSchedule.ScheduleFrequencyProperty:
    """The refresh settings as a QuickSight schedule frequency."""
    Schedule = quicksight.CfnRefreshSchedule
    on_day = None
    if refresh.interval == "WEEKLY":
        on_day = Schedule.RefreshOnDayProperty(day_of_week=refresh.day)
    elif refresh.interval == "MONTHLY":
        on_day = Schedule.RefreshOnDayProperty(day_of_month=refresh.day)
    return Schedule.ScheduleFrequencyProperty(
        interval=refresh.interval,
        time_of_the_day=None if refresh.interval == "HOURLY" else refresh.time_of_day,
        time_zone=refresh.timezone,
        refresh_on_day=on_day,
    )


class QuickSightStack(PlatformStack):
    """Amazon QuickSight, configured by the ``quicksight`` settings: the author and viewer groups in
    the identity region, their function's logs encrypted with ``logs_key``
    (:class:`QuickSightGroups`), an Athena data source on the platform's workgroup with its own
    least-privilege role (:class:`AthenaDataSource`), SPICE datasets of the curated sales and the
    daily store features with columns from the schema module and a refresh schedule each
    (:class:`SpiceDataset`), with ``forecasts`` (the forecasts against actuals and the accuracy
    views) two more, and the sales dashboard (:class:`SalesDashboard`). Authors own every
    resource, viewers may use them. A failed SPICE ingestion of either dataset reaches the alarm
    topic. Exposes ``groups``, ``data_source``, ``datasets``, ``ingestion_alarms`` and
    ``dashboard``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        lake: DataLake,
        catalog: LakeCatalog,
        athena: AthenaWorkgroup,
        forecasts: bool,
        alarm_topic: sns.ITopic,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix=outputs.QUICKSIGHT,
            description="Data science platform: QuickSight data source, SPICE datasets, dashboard",
        )
        config = settings.quicksight
        name = settings.name_prefix
        authors, viewers = settings.bi_groups
        self.groups = QuickSightGroups(
            self,
            "Groups",
            owners=authors,
            viewers=viewers,
            namespace=config.namespace,
            identity_region=config.identity_region,
            logs_key=logs_key,
            log_retention=RETENTION_BY_DAYS[config.log_retention_days],
            removal_policy=data_removal_policy(self, destroy=settings.destroy_on_delete),
        )
        tables: dict[str, Table | View] = {"sales": CURATED_TRANSACTIONS, "daily": STORE_DAILY_FEATURES}
        if forecasts:
            tables |= {"forecasts": FORECASTS_VS_ACTUALS, "accuracy": FORECAST_ACCURACY}
        read = {
            table.name: table
            for source in tables.values()
            for table in (source.reads if isinstance(source, View) else (source,))
        }
        self.data_source = AthenaDataSource(
            self,
            "Athena",
            name_prefix=name,
            athena=athena,
            databases=sorted({catalog.database_names[table.zone] for table in tables.values()}),
            reads=[(lake.zones[table.zone], f"{table.prefix}*") for table in read.values()],
            groups=self.groups,
        )
        # The pipeline re-imports after each day's run; a schedule of its own would race it.
        refresh = None if settings.pipeline.enabled else refresh_frequency(config.refresh)
        self.datasets = {
            identifier: SpiceDataset(
                self,
                f"{identifier.title()}Dataset",
                dataset_id=f"{name}-{table.name.replace('_', '-')}",
                name=f"{name} {TITLES[identifier]}",
                table=table,
                database=catalog.database_names[table.zone],
                data_source=self.data_source.data_source,
                calculated={"forecast_day": FORECAST_DAY}
                if isinstance(table, View)
                else {"sale_day": SALE_DAY},
                refresh=refresh,
                groups=self.groups,
            )
            for identifier, table in tables.items()
        }
        self.ingestion_alarms = [
            topic_alarm(
                self,
                f"{identifier.title()}IngestionFailed",
                topic=alarm_topic,
                metric=ingestion_metric(dataset.dataset_id, "IngestionErrorCount"),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"SPICE ingestion of QuickSight dataset {dataset.dataset_id} failed",
            )
            for identifier, dataset in self.datasets.items()
        ]
        self.dashboard = SalesDashboard(
            self,
            "Dashboard",
            dashboard_id=f"{name}-sales",
            name=f"{name} sales",
            datasets=self.datasets,
            groups=self.groups,
            csv_export=settings.quicksight.csv_export,
        )
        CfnOutput(
            self, "DashboardId", value=f"{name}-sales", description="Open it in QuickSight > Dashboards"
        )
        CfnOutput(
            self,
            outputs.DATASETS,
            value=",".join(dataset.dataset_id for dataset in self.datasets.values()),
            description="The SPICE datasets",
        )
