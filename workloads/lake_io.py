"""Spark reading and writing of lake tables, shared by the Glue and EMR workloads (no Glue imports).

Tables live at ``<zone bucket URL>/<table prefix>`` (``s3://…`` in AWS, a local folder in tests),
as Parquet partitioned by a day string. A write names the days it owns and replaces exactly their
partitions, also those it leaves empty, and stamps each with a :data:`WRITTEN` marker, whose
modification time says when the day last changed (readers skip ``_`` files: Spark, Athena and
the crawlers' exclusions).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from workloads.schema import Table, View

SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
}
"""Spark settings the workloads rely on (the Glue job, the EMR step and the local session set the
same): UTC instants, timestamps every reader understands, overwrites that replace only the partitions
written, partition values read as the strings the catalog declares, and datetime parsing by the
Java 8 parser alone (the default policy raises on text the old parser half-reads, such as
``…+01:00[Europe/Paris]``, failing the job instead of giving null)."""
WRITTEN = "_WRITTEN"
"""Empty marker in every partition folder a write owned: its modification time is the day's last change."""


def table_location(bucket_url: str, table: Table) -> str:
    """``s3://bucket/prefix/`` (or a local folder) of ``table`` in the bucket at ``bucket_url``."""
    return f"{bucket_url.rstrip('/')}/{table.prefix}"


def ddl_schema(table: Table) -> str:
    """``table``'s columns then partition keys as a Spark DDL schema string."""
    columns = (*table.columns, *table.partition_keys)
    return ", ".join(f"`{column.name}` {column.type}" for column in columns)


def read_table(spark: SparkSession, bucket_url: str, table: Table) -> DataFrame:
    """``table`` in the bucket at ``bucket_url``; an empty frame of its schema while it holds no
    Parquet file (before the first write, or every partition emptied)."""
    try:
        return spark.read.parquet(table_location(bucket_url, table))
    except AnalysisException as error:
        if error.getErrorClass() not in ("PATH_NOT_FOUND", "UNABLE_TO_INFER_SCHEMA"):
            raise
        return spark.createDataFrame([], ddl_schema(table))


def read_view(spark: SparkSession, bucket_url: str, view: View) -> DataFrame:
    """``view`` run by Spark over its tables in the bucket at ``bucket_url``, with the very SQL
    Athena runs (each table a temporary view of its name)."""
    for table in view.reads:
        read_table(spark, bucket_url, table).createOrReplaceTempView(table.name)
    return spark.sql(view.sql)


def _filesystem(spark: SparkSession, location: str) -> tuple[Any, Any]:
    """Hadoop's file system of ``location`` (S3 on AWS, local in tests) and its ``Path`` class."""
    jvm: Any = spark.sparkContext._jvm
    path_class = jvm.org.apache.hadoop.fs.Path
    return path_class(location).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path_class


def _folders(location: str, partition: str, days: Iterable[date]) -> list[str]:
    return [f"{location.rstrip('/')}/{partition}={day.isoformat()}" for day in days]


def replace_partitions(
    frame: DataFrame, location: str, partition: str, days: Iterable[date], order: list[str]
) -> None:
    """Make the partitions of ``days`` at ``location`` hold exactly the rows of ``frame`` (whose
    ``partition`` values are among ``days``), one sorted Parquet file each; a day without rows is
    left empty. Each day's folder then gets a fresh :data:`WRITTEN` marker."""
    spark = frame.sparkSession
    filesystem, path = _filesystem(spark, location)
    folders = _folders(location, partition, days)
    before = [
        status.getPath()
        for folder in folders
        if filesystem.exists(path(folder))
        for status in filesystem.listStatus(path(folder))
    ]
    (
        frame.repartition(partition)
        .sortWithinPartitions(*order)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(partition)
        .parquet(location)
    )
    # Dynamic overwrite replaced the folders of the days with rows; files still there from before
    # belong to days that are now empty.
    for old in before:
        if filesystem.exists(old):
            filesystem.delete(old, False)
    for folder in folders:
        filesystem.create(path(f"{folder}/{WRITTEN}"), True).close()


def written_days(spark: SparkSession, location: str, partition: str) -> dict[date, int]:
    """Day -> when its partition at ``location`` was last written (milliseconds since the epoch, the
    :data:`WRITTEN` marker's modification time); days never written by :func:`replace_partitions`
    are absent. One recursive listing (paged on S3), not a request per partition."""
    filesystem, path = _filesystem(spark, location)
    if not filesystem.exists(path(location)):
        return {}
    written = {}
    files = filesystem.listFiles(path(location), True)
    while files.hasNext():
        status = files.next()
        if status.getPath().getName() != WRITTEN:
            continue
        name, _, value = status.getPath().getParent().getName().partition("=")
        try:
            if name == partition:
                written[date.fromisoformat(value)] = int(status.getModificationTime())
        except ValueError:  # a folder that is no day of ours
            continue
    return written


def forget_days(spark: SparkSession, location: str, partition: str, days: Iterable[date]) -> None:
    """Remove the :data:`WRITTEN` markers of ``days`` at ``location``, so they count as never written
    (their data stays)."""
    filesystem, path = _filesystem(spark, location)
    for folder in _folders(location, partition, days):
        filesystem.delete(path(f"{folder}/{WRITTEN}"), False)
