"""Spark reading and writing of lake tables, shared by the Glue and EMR workloads (no Glue imports).

Tables live at ``<zone bucket URL>/<table prefix>`` (``s3://…`` in AWS, a local folder in tests),
as Parquet partitioned by a day string; writes replace only the partitions they hold.
"""

from __future__ import annotations

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from workloads.schema import Table

SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}
"""Spark settings the workloads rely on: UTC instants, timestamps every reader understands,
overwrites that replace only the partitions written, and partition values read as the strings the
catalog declares."""


def table_location(bucket_url: str, table: Table) -> str:
    """``s3://bucket/prefix/`` (or a local folder) of ``table`` in the bucket at ``bucket_url``."""
    return f"{bucket_url.rstrip('/')}/{table.prefix}"


def ddl_schema(table: Table) -> str:
    """``table``'s columns then partition keys as a Spark DDL schema string."""
    columns = (*table.columns, *table.partition_keys)
    return ", ".join(f"`{column.name}` {column.type}" for column in columns)


def read_table(spark: SparkSession, bucket_url: str, table: Table) -> DataFrame:
    """``table`` in the bucket at ``bucket_url``; an empty frame of its schema before the first write."""
    try:
        return spark.read.parquet(table_location(bucket_url, table))
    except AnalysisException as error:
        if error.getErrorClass() != "PATH_NOT_FOUND":
            raise
        return spark.createDataFrame([], ddl_schema(table))


def write_partitions(frame: DataFrame, location: str, partition: str, order: list[str]) -> None:
    """Replace the partitions of ``frame`` at ``location``, one sorted Parquet file per partition."""
    (
        frame.repartition(partition)
        .sortWithinPartitions(*order)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(partition)
        .parquet(location)
    )
