"""Glue Data Catalog tables and views of the lake, defined in code from the schema module."""

import base64
import json
from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

from workloads.schema import Table, View

PROJECTION_END = "NOW+1DAYS"
"""The last day Athena projects (it projects no later one): tomorrow in UTC, since the forecast row
and the forecasts are of the day after a run's date, which is today where the store is and may
already be tomorrow in UTC."""
PRESTO_TYPES = {
    "string": "varchar",
    "int": "integer",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
}
"""The type names an Athena view's stored definition uses for the Glue/Hive types of its columns."""


def _columns(columns: Sequence[object]) -> list[glue.Column]:
    return [
        glue.Column(name=c.name, type=glue.Schema.custom(c.type), comment=c.comment)  # type: ignore[attr-defined]
        for c in columns
    ]


class LakeTables(Construct):
    """One Parquet table per entry of ``tables`` (:class:`workloads.schema.Table`), in the Glue database
    of its zone, over the zone bucket under the table's prefix.

    Columns, partition keys and descriptions come from the schema module; no list is typed twice.
    Partition keys are days (``yyyy-MM-dd``) with Athena partition projection from
    ``projection_start`` to tomorrow (:data:`PROJECTION_END`), so queries need no crawler,
    ``MSCK REPAIR`` or partition API call. Data is SSE-KMS (server side), so
    ``has_encrypted_data`` (client-side encryption) is off.
    Each view becomes an Athena view (a ``VIRTUAL_VIEW`` in the Glue catalog with the definition
    Athena stores for one it creates), so the SQL lives in the schema module, not in a console.
    Exposes ``tables`` (table name -> ``S3Table``) and ``views`` (-> ``CfnTable``), keyed
    ``<zone>.<name>``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tables: Sequence[Table],
        views: Sequence[View] = (),
        buckets: Mapping[str, s3.IBucket],
        databases: Mapping[str, glue.CfnDatabase],
        projection_start: str = "2020-01-01",
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param tables: the table definitions.
        :param views: the view definitions (Athena views over those tables).
        :param buckets: zone -> the zone's bucket.
        :param databases: zone -> the zone's Glue database.
        :param projection_start: first day Athena projects partitions for; default 2020-01-01.
        :param removal_policy: RETAIN (default) or DESTROY.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        imported: dict[str, glue.IDatabase] = {}
        self.tables: dict[str, glue.S3Table] = {}
        for table in tables:
            database = databases[table.zone]
            if table.zone not in imported:
                name = database.database_input.name  # type: ignore[union-attr]
                arn = stack.format_arn(service="glue", resource="database", resource_name=name)
                imported[table.zone] = glue.Database.from_database_arn(
                    self, f"{table.zone.capitalize()}Db", arn
                )
            projection = {
                key.name: glue.PartitionProjectionConfiguration.date(
                    min=projection_start, max=PROJECTION_END, format="yyyy-MM-dd"
                )
                for key in table.partition_keys
            }
            s3_table = glue.S3Table(
                self,
                "".join(part.capitalize() for part in f"{table.zone}_{table.name}".split("_")),
                database=imported[table.zone],
                table_name=table.name,
                description=table.description,
                storage=glue.S3TableStorage.from_bucket(buckets[table.zone]),
                s3_prefix=table.prefix,
                data_format=glue.DataFormat.PARQUET,
                columns=_columns(table.columns),
                partition_keys=_columns(table.partition_keys) or None,
                partition_projection=projection or None,
                has_encrypted_data=False,
            )
            s3_table.node.add_dependency(database)
            s3_table.apply_removal_policy(removal_policy)
            self.tables[f"{table.zone}.{table.name}"] = s3_table
        self.views: dict[str, glue.CfnTable] = {}
        for view in views:
            database = databases[view.zone]
            name = str(database.database_input.name)  # type: ignore[union-attr]
            catalog_view = glue.CfnTable(
                self,
                "".join(part.capitalize() for part in f"{view.zone}_{view.name}".split("_")),
                catalog_id=stack.account,
                database_name=name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=view.name,
                    description=view.description,
                    table_type="VIRTUAL_VIEW",
                    parameters={"presto_view": "true", "comment": "Presto View"},
                    view_original_text=presto_view_text(view, name),
                    view_expanded_text="/* Presto View */",
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        columns=[
                            glue.CfnTable.ColumnProperty(name=c.name, type=c.type, comment=c.comment)
                            for c in view.columns
                        ],
                        serde_info=glue.CfnTable.SerdeInfoProperty(),
                    ),
                ),
            )
            catalog_view.node.add_dependency(database)
            catalog_view.apply_removal_policy(removal_policy)
            self.views[f"{view.zone}.{view.name}"] = catalog_view


def presto_view_text(view: View, database: str) -> str:
    """The ``ViewOriginalText`` Athena stores for a view it creates, and reads back: the view's SQL,
    catalog, schema and typed columns as base64 JSON in a ``/* Presto View: ... */`` comment."""
    definition = {
        "originalSql": view.sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": [{"name": column.name, "type": PRESTO_TYPES[column.type]} for column in view.columns],
    }
    return f"/* Presto View: {base64.b64encode(json.dumps(definition).encode()).decode()} */"
