"""Glue Data Catalog tables of the lake, defined in code from the schema module."""

from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

from workloads.schema import Table


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
    ``projection_start`` to today, so queries need no crawler, ``MSCK REPAIR`` or partition API
    call. Data is SSE-KMS (server side), so ``has_encrypted_data`` (client-side encryption) is off.
    Exposes ``tables`` (table name -> ``S3Table``), keyed ``<zone>.<name>``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tables: Sequence[Table],
        buckets: Mapping[str, s3.IBucket],
        databases: Mapping[str, glue.CfnDatabase],
        projection_start: str = "2020-01-01",
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param tables: the table definitions.
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
                    min=projection_start, max="NOW", format="yyyy-MM-dd"
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
