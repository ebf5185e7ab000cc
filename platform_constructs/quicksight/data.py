"""The Athena data source QuickSight reads the lake through, and SPICE datasets of lake tables."""

from collections.abc import Mapping, Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_quicksight as quicksight
from aws_cdk import aws_s3 as s3
from constructs import Construct

from platform_constructs.athena import AthenaWorkgroup
from platform_constructs.lake_access import LakeAccessRole
from platform_constructs.quicksight.groups import QuickSightGroups
from workloads.schema import Table, View

ATHENA_LIST_ACTIONS = ("athena:ListDataCatalogs", "athena:ListWorkGroups", "athena:ListEngineVersions")
"""What QuickSight's Athena client calls to browse; these take no resource."""
INPUT_TYPES = {
    "string": "STRING",
    "int": "INTEGER",
    "bigint": "INTEGER",
    "double": "DECIMAL",
    "boolean": "BOOLEAN",
}


def input_type(glue_type: str) -> str:
    """The QuickSight input column type of a Glue/Hive column type."""
    if glue_type.startswith("decimal"):
        return "DECIMAL"
    if glue_type in ("timestamp", "date"):
        return "DATETIME"
    return INPUT_TYPES[glue_type]


def input_columns(table: Table | View) -> list[dict[str, str]]:
    """A table's columns and partition keys as QuickSight reads them: names and types from the
    schema, decimals as ``FIXED`` and doubles as ``FLOAT``."""
    columns = []
    for column in (*table.columns, *table.partition_keys):
        spec = {"Name": column.name, "Type": input_type(column.type)}
        if spec["Type"] == "DECIMAL":
            spec["SubType"] = "FIXED" if column.type.startswith("decimal") else "FLOAT"
        columns.append(spec)
    return columns


class AthenaDataSource(Construct):
    """A QuickSight ``ATHENA`` data source ``<name_prefix>-athena`` on ``athena``'s workgroup, SSL
    on, that queries as its own role (not the account's QuickSight service role): queries over the
    Glue catalog's ``databases`` (:meth:`AthenaWorkgroup.grant_query`), reading ``reads`` (bucket and
    key pattern of each table). Exposes ``data_source`` and ``role``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        athena: AthenaWorkgroup,
        databases: Sequence[str],
        reads: Sequence[tuple[s3.IBucket, str]],
        groups: QuickSightGroups,
    ) -> None:
        """
        :param name_prefix: the data source is ``<name_prefix>-athena``.
        :param athena: the workgroup its queries run in.
        :param databases: Glue databases it may read.
        :param reads: (bucket, key pattern) pairs of the tables' data.
        :param groups: who may use and change the data source.
        """
        super().__init__(scope, construct_id)
        self.role = LakeAccessRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("quicksight.amazonaws.com"),
            description="QuickSight's Athena data source: the platform's tables and query results",
        )
        for bucket, pattern in reads:
            self.role.read(bucket, pattern)
        athena.grant_query(self.role, databases=databases)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(ATHENA_LIST_ACTIONS), resources=["*"])
        )
        self.role.acknowledge_wildcards(
            "The tables' objects under their prefixes, query results under the workgroup's prefix and "
            "the tables of the platform's databases, all of which grow with the lake; Athena's list "
            "actions, which take no resource.",
            resources=["*"],
        )
        self.data_source = quicksight.CfnDataSource(
            self,
            "Resource",
            aws_account_id=Aws.ACCOUNT_ID,
            data_source_id=f"{name_prefix}-athena",
            name=f"{name_prefix} lake (Athena)",
            type="ATHENA",
            data_source_parameters=quicksight.CfnDataSource.DataSourceParametersProperty(
                athena_parameters=quicksight.CfnDataSource.AthenaParametersProperty(
                    work_group=athena.name, role_arn=self.role.role_arn
                )
            ),
            ssl_properties=quicksight.CfnDataSource.SslPropertiesProperty(disable_ssl=False),
        )
        self.data_source.node.add_dependency(self.role)  # QuickSight checks the role when it creates it
        groups.grant(self.data_source, "data_source")


class SpiceDataset(Construct):
    """A SPICE dataset ``<dataset_id>`` of ``table`` (a table or a view of database ``database``)
    through ``data_source``:
    its columns and types come from the schema module, plus ``calculated`` fields (name ->
    QuickSight expression). SPICE re-imports it ``refresh`` (a refresh schedule). Exposes
    ``dataset_id``, ``data_set``, ``arn`` and ``columns`` (every field name, calculated ones
    included)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dataset_id: str,
        name: str,
        table: Table | View,
        database: str,
        data_source: quicksight.CfnDataSource,
        calculated: Mapping[str, str],
        refresh: quicksight.CfnRefreshSchedule.ScheduleFrequencyProperty | None,
        groups: QuickSightGroups,
    ) -> None:
        """
        :param dataset_id: the dataset's ID, unique in the account.
        :param name: the name users see.
        :param table: the lake table or view (schema module).
        :param database: its Glue database.
        :param data_source: the Athena data source.
        :param calculated: calculated fields: name -> expression.
        :param refresh: when SPICE re-imports it; None: only when asked (the pipeline does).
        :param groups: who may use and change it.
        """
        super().__init__(scope, construct_id)
        self.dataset_id = dataset_id
        columns = input_columns(table)
        self.columns = [column["Name"] for column in columns] + list(calculated)
        self.data_set = quicksight.CfnDataSet(
            self,
            "Resource",
            aws_account_id=Aws.ACCOUNT_ID,
            data_set_id=dataset_id,
            name=name,
            import_mode="SPICE",
            # SPICE imports on its own; a deployment must not wait for (or roll back over) an import.
            ingestion_wait_policy=quicksight.CfnDataSet.IngestionWaitPolicyProperty(
                wait_for_spice_ingestion=False
            ),
        )
        self.data_set.add_property_override(
            "PhysicalTableMap",
            {
                "table": {
                    "RelationalTable": {
                        "DataSourceArn": data_source.attr_arn,
                        "Catalog": "AwsDataCatalog",
                        "Schema": database,
                        "Name": table.name,
                        "InputColumns": columns,
                    }
                }
            },
        )
        logical: dict[str, object] = {"Alias": table.name, "Source": {"PhysicalTableId": "table"}}
        if calculated:
            logical["DataTransforms"] = [
                {
                    "CreateColumnsOperation": {
                        "Columns": [
                            {"ColumnName": column, "ColumnId": column, "Expression": expression}
                            for column, expression in calculated.items()
                        ]
                    }
                }
            ]
        self.data_set.add_property_override("LogicalTableMap", {"table": logical})
        groups.grant(self.data_set, "data_set")
        self.arn = self.data_set.attr_arn
        if refresh is None:
            return
        refresh_schedule = quicksight.CfnRefreshSchedule(
            self,
            "Refresh",
            aws_account_id=Aws.ACCOUNT_ID,
            data_set_id=dataset_id,
            schedule=quicksight.CfnRefreshSchedule.RefreshScheduleMapProperty(
                schedule_id=f"{dataset_id}-refresh", refresh_type="FULL_REFRESH", schedule_frequency=refresh
            ),
        )
        refresh_schedule.node.add_dependency(self.data_set)


def ingestion_metric(dataset_id: str, metric_name: str) -> cloudwatch.Metric:
    """``metric_name`` (``AWS/QuickSight`` ingestion metrics, e.g. ``IngestionErrorCount``) of one
    SPICE dataset, summed per hour."""
    return cloudwatch.Metric(
        namespace="AWS/QuickSight",
        metric_name=metric_name,
        dimensions_map={"DatasetId": dataset_id},
        statistic="Sum",
        period=Duration.hours(1),
    )
