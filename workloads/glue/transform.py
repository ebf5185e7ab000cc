"""The ETL of business days, raw uploads to curated Parquet, as plain PySpark (no Glue imports).

:func:`clean_days` reads every upload of the given ``ingest_date`` folders, splits it into lines
(:mod:`.raw_files`; a file over :data:`~.raw_files.MAX_FILE_BYTES` is rejected unread), checks each
line in a fixed order (:data:`workloads.schema.REJECTION_REASONS`) and returns the typed clean lines
and the quarantined ones with their reason; nothing is dropped. All the days are checked in one Spark
pass (a backfill of a month costs about what one day does), and every check and the duplicate search
stay within a line's own day. Values are compared with surrounding spaces trimmed, so ``" 1"`` and
``"1"`` are the same line number; the record keeps the line as uploaded.

:func:`publish_days` stages, checks, then publishes: the data-quality gate judges the days' clean
lines before anything is written, and only days that passed replace their curated and quarantine
partitions (emptied ones too, :func:`workloads.lake_io.replace_partitions`), so readers never see a
failed day and a rerun of a day gives exactly its new rows. The contract that makes that true: the
folder ``ingest_date=D`` holds the sales of day D in the store's own time zone (``stores.timezone``);
a line of another day there is quarantined as ``wrong_ingest_day`` instead of being written into a
partition another run owns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, Row, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

from workloads.glue.discovery import ingest_day
from workloads.glue.raw_files import COLUMNS, MAX_FILE_BYTES, RawLine, is_data_file, split_file, unreadable
from workloads.lake_io import read_table, replace_partitions, table_location
from workloads.schema import (
    CURATED_TRANSACTIONS,
    QUARANTINE,
    RAW_STORES,
    RAW_TRANSACTIONS,
    TIMESTAMP_FORMAT,
)

LINES_SCHEMA = StructType(
    [
        StructField("source_file", StringType(), False),
        StructField("source_line", IntegerType(), False),
        *(StructField(name, StringType()) for name in COLUMNS),
        StructField("error", StringType()),
        StructField("detail", StringType()),
        StructField("record", StringType()),
        StructField("ingest_date", StringType(), False),
    ]
)

_LINE_FIELDS = [name for name in LINES_SCHEMA.fieldNames() if name != "detail"]
_c = F.col

Gate = Callable[[DataFrame], Sequence[str]]
"""The data-quality gate: given the clean lines about to be published, the rules they fail."""


class GateFailed(RuntimeError):
    """The data-quality gate failed; nothing of the days was published."""


def upload_folders(raw_url: str, days: Iterable[date]) -> dict[str, str]:
    """Upload format -> a pattern of the folders holding that format's uploads of ``days`` (one
    Hadoop glob, ``…/ingest_date={D1,D2}/``, so each format is listed and read once for all days)."""
    wanted = ",".join(sorted(day.isoformat() for day in days))
    return {
        upload_format: f"{table_location(raw_url, table)}ingest_date={{{wanted}}}/"
        for upload_format, table in RAW_TRANSACTIONS.items()
    }


def read_curated(
    spark: SparkSession, curated_url: str, days: Iterable[date], since: date | None
) -> DataFrame:
    """Curated transactions of ``days`` and of every day from ``since`` on; empty when there are none."""
    frame = read_table(spark, curated_url, CURATED_TRANSACTIONS)
    wanted = F.col("sale_date").isin(*(day.isoformat() for day in days))
    if since is not None:
        wanted = wanted | (F.col("sale_date") >= F.lit(since.isoformat()))
    return frame.where(wanted)


def _line_row(line: RawLine, day: str) -> tuple[object, ...]:
    return (line.source_file, line.source_line, *line.values, line.error, line.detail, line.record, day)


def _rows_of(file: Row, upload_format: str, limit: int) -> list[tuple[object, ...]]:
    """Rows of :data:`LINES_SCHEMA` for one uploaded file (``path``, ``length``, ``content``, which is
    null when the file is over ``limit`` bytes and so was not loaded); none for markers."""
    if not is_data_file(file.path):
        return []
    day = ingest_day(file.path).isoformat()
    if file.content is None:
        too_large = f"{file.length} bytes, more than the {limit} parsed in memory"
        return [_line_row(unreadable(file.path, too_large), day)]
    return [_line_row(line, day) for line in split_file(file.path, bytes(file.content), upload_format)]


def read_uploads(spark: SparkSession, raw_url: str, days: Iterable[date]) -> DataFrame:
    """Every line of every data file in the upload folders of ``days``, with its ``ingest_date``; a
    day without a folder has none. A file larger than :data:`MAX_FILE_BYTES` is not loaded (the length
    filter reaches the file source, which then skips its content) and gives one ``unreadable_file``
    line."""
    lines = spark.createDataFrame([], LINES_SCHEMA)
    for upload_format, folders in upload_folders(raw_url, days).items():
        try:
            files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(folders)
        except AnalysisException as error:
            if error.getErrorClass() == "PATH_NOT_FOUND":  # none of the days has a folder
                continue
            raise
        loaded = files.where(_c("length") <= MAX_FILE_BYTES).select("path", "length", "content")
        too_large = files.where(_c("length") > MAX_FILE_BYTES).select(
            "path", "length", F.lit(None).cast("binary").alias("content")
        )
        split = loaded.unionByName(too_large).rdd.flatMap(
            partial(_rows_of, upload_format=upload_format, limit=MAX_FILE_BYTES)
        )
        lines = lines.unionByName(spark.createDataFrame(split, LINES_SCHEMA))
    return lines


def read_stores(spark: SparkSession, raw_url: str) -> DataFrame:
    """The stores of the raw zone's store list (``stores/*.csv`` with a header): ``known_store``, its
    ``timezone`` when the list gives it exactly one that Java knows (else null) and ``zone_problem``
    saying why not. The list is small, so it is checked on the driver against the JVM's zone IDs, the
    ones Spark converts with (an unknown zone in a conversion fails the whole job)."""
    stores = spark.read.option("header", "true").csv(table_location(raw_url, RAW_STORES))
    rows = (
        stores.select(F.trim("store_id").alias("store"), F.trim("timezone").alias("zone"))
        .where(_c("store") != "")
        .distinct()
        .collect()
    )
    jvm: Any = spark.sparkContext._jvm
    java_zones = set(jvm.java.time.ZoneId.getAvailableZoneIds())
    zones: dict[str, set[str | None]] = {}
    for row in rows:
        zones.setdefault(row.store, set()).add(row.zone)
    checked: list[tuple[str, str | None, str | None]] = []
    for store, listed in sorted(zones.items()):
        zone = next(iter(listed))
        if len(listed) > 1:
            checked.append((store, None, f"is listed with several time zones {sorted(map(str, listed))}"))
        elif zone not in java_zones:
            checked.append((store, None, f"has the time zone {zone!r}, which is no IANA zone"))
        else:
            checked.append((store, zone, None))
    return spark.createDataFrame(checked, "known_store string, timezone string, zone_problem string")


def _blank(name: str) -> Column:
    return _c(name).isNull() | (F.trim(_c(name)) == "")


def _between(value: Column, name: str) -> Column:
    column = CURATED_TRANSACTIONS.column(name)
    return value.between(F.lit(column.minimum), F.lit(column.maximum))


def _in_allowed(name: str) -> Column:
    allowed = CURATED_TRANSACTIONS.column(name).allowed
    return _c(name).isin(*allowed) | (
        _c(name).isNull() & F.lit(not CURATED_TRANSACTIONS.column(name).required)
    )


def _first_failure(checks: list[tuple[Column | str, Column, Column]]) -> tuple[Column, Column]:
    """(reason, detail) of the first failing check of (reason, failed, detail); null when all pass."""
    reason, detail = F.lit(None).cast("string"), F.lit(None).cast("string")
    for name, failed, explanation in reversed(checks):
        reason = F.when(failed, name).otherwise(reason)
        detail = F.when(failed, explanation).otherwise(detail)
    return reason, detail


@dataclass
class CleanedDays:
    """The outcome of some ingest days: the clean typed lines (curated schema, partition
    ``sale_date``) and the quarantined ones (partition ``ingest_date``).

    Both derive from the days' checked lines, cached until :meth:`release`.
    """

    days: list[date]
    clean: DataFrame
    quarantine: DataFrame
    checked: DataFrame

    def release(self) -> None:
        """Drop the cached lines of the days."""
        self.checked.unpersist()

    def counts(self) -> dict[date, dict[str, int]]:
        """Per day, in the order given: ``kept``, then the number of quarantined lines per reason
        (by name); a day without lines has ``{"kept": 0}``."""
        kept = self.clean.select(_c("sale_date").alias("day"), F.lit("kept").alias("reason"))
        dropped = self.quarantine.select(_c("ingest_date").alias("day"), "reason")
        rows = kept.unionByName(dropped).groupBy("day", "reason").count().collect()
        found: dict[str, dict[str, int]] = {}
        for row in sorted(rows, key=lambda row: row["reason"]):
            found.setdefault(row["day"], {})[row["reason"]] = row["count"]
        counts = {}
        for day in self.days:
            reasons = found.get(day.isoformat(), {})
            counts[day] = {"kept": reasons.pop("kept", 0), **reasons}
        return counts


def clean_days(spark: SparkSession, raw_url: str, days: Iterable[date]) -> CleanedDays:
    """Check every upload of the ingest ``days`` in the raw zone at ``raw_url``; nothing is written."""
    days = sorted(set(days))
    uploaded = read_uploads(spark, raw_url, days)
    lines = uploaded.select(
        *(F.trim(name).alias(name) if name in COLUMNS else name for name in uploaded.columns)
    )
    stores = F.broadcast(read_stores(spark, raw_url))
    sold_at = F.try_to_timestamp(_c("sold_at"), F.lit(TIMESTAMP_FORMAT))
    local_day = F.date_format(F.from_utc_timestamp(sold_at, _c("timezone")), "yyyy-MM-dd")
    quantity = _c("quantity").cast("int")
    unit_price = _c("unit_price").cast("decimal(10,2)")
    missing = F.concat_ws(
        ", ", *(F.when(_blank(name), F.lit(name)) for name in RAW_TRANSACTIONS["csv"].required_columns)
    )
    amount_ok = (
        _c("quantity").rlike(r"^-?\d{1,9}$")
        & _c("unit_price").rlike(r"^-?\d{1,8}(\.\d{1,2})?$")
        & _between(quantity, "quantity")
        & _between(unit_price, "unit_price")
    )
    values_ok = (
        _c("line_number").rlike(r"^[1-9]\d{0,5}$") & _in_allowed("currency") & _in_allowed("payment_type")
    )
    checks: list[tuple[Column | str, Column, Column]] = [
        (_c("error"), _c("error").isNotNull(), _c("detail")),
        ("missing_required_field", missing != "", F.concat(F.lit("empty: "), missing)),
        ("bad_timestamp", sold_at.isNull(), F.concat(F.lit("sold_at is not "), F.lit(TIMESTAMP_FORMAT))),
        (
            "bad_amount",
            ~F.coalesce(amount_ok, F.lit(False)),
            F.format_string("quantity %s, unit_price %s", "quantity", "unit_price"),
        ),
        (
            "invalid_value",
            ~F.coalesce(values_ok, F.lit(False)),
            F.format_string(
                "line_number %s, currency %s, payment_type %s", "line_number", "currency", "payment_type"
            ),
        ),
        (
            "unknown_store",
            _c("timezone").isNull(),
            F.concat(
                F.lit("store "),
                _c("store_id"),
                F.lit(" "),
                F.coalesce(_c("zone_problem"), F.lit("is not in the store list")),
            ),
        ),
        (
            "wrong_ingest_day",
            local_day != _c("ingest_date"),
            F.format_string("sold on %s in the store's time zone %s", local_day, _c("timezone")),
        ),
    ]
    reason, detail = _first_failure(checks)
    checked = (
        lines.join(stores, _c("store_id") == _c("known_store"), "left")
        .withColumn("reason", reason)
        .withColumn("detail", detail)
        .cache()
    )

    # Among a day's lines that passed, the first of each key (by file and line) wins; later ones are
    # quarantined.
    key = list(CURATED_TRANSACTIONS.key)
    first = Window.partitionBy("ingest_date", *key).orderBy("source_file", "source_line")
    fingerprint = F.to_json(F.array(*(_c(name) for name in COLUMNS)))
    ranked = (
        checked.where(_c("reason").isNull())
        .withColumn("_rank", F.row_number().over(first))
        .withColumn(
            "_first", F.first(F.struct(fingerprint.alias("fp"), "source_file", "source_line")).over(first)
        )
    )
    copy_of = F.format_string(
        "same %s as %s line %d", F.lit(", ".join(key)), "_first.source_file", "_first.source_line"
    )
    duplicates = ranked.where(_c("_rank") > 1).select(
        *_LINE_FIELDS,
        F.when(fingerprint == _c("_first.fp"), "duplicate")
        .otherwise("conflicting_duplicate")
        .alias("reason"),
        copy_of.alias("detail"),
    )

    typed = {
        "sold_at": sold_at,
        "quantity": quantity,
        "unit_price": unit_price,
        "net_amount": quantity * unit_price,
    }
    clean = ranked.where(_c("_rank") == 1).select(
        *(
            typed.get(col.name, _c(col.name)).cast(col.type).alias(col.name)
            for col in CURATED_TRANSACTIONS.columns
        ),
        _c("ingest_date").alias("sale_date"),
    )
    quarantine = (
        checked.where(_c("reason").isNotNull())
        .select(*_LINE_FIELDS, "reason", "detail")
        .unionByName(duplicates)
        .select(
            *(_c(col.name).cast(col.type).alias(col.name) for col in QUARANTINE.columns),
            "ingest_date",
        )
    )
    return CleanedDays(days, clean, quarantine, checked)


def write_days(result: CleanedDays, curated_url: str) -> None:
    """Replace the days' partitions of the curated table and of the quarantine in the curated zone at
    ``curated_url`` with the days' clean and quarantined lines; a day left without either is emptied."""
    replace_partitions(
        result.clean,
        table_location(curated_url, CURATED_TRANSACTIONS),
        "sale_date",
        result.days,
        list(CURATED_TRANSACTIONS.key),
    )
    replace_partitions(
        result.quarantine,
        table_location(curated_url, QUARANTINE),
        "ingest_date",
        result.days,
        ["source_file", "source_line"],
    )


def publish_days(result: CleanedDays, curated_url: str, gate: Gate) -> None:
    """Stage, check, publish: ``gate`` judges the days' clean lines as they are about to be written;
    when it names a failed rule, :class:`GateFailed` is raised and the curated zone is left as it was
    (readers never see a day that failed), else :func:`write_days` publishes the days."""
    failures = list(gate(result.clean))
    if failures:
        raise GateFailed("data quality gate failed, nothing published: " + "; ".join(failures))
    write_days(result, curated_url)
