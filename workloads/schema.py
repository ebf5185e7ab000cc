"""The column names and types of every lake table, in one place.

The sample-data generator, the Glue ETL job, the Glue table definitions, the data-quality rules
(and later the EMR job and the QuickSight datasets) all read these definitions; no other module
types a column list of its own. Types are Glue/Hive type names, which Athena and Spark both read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Column:
    """One column: its Glue/Hive type, and the rules a value must meet to enter the curated zone.

    :param name: column name, lowercase with underscores.
    :param type: Glue/Hive type, e.g. ``string``, ``int``, ``decimal(10,2)``, ``timestamp``, ``date``.
    :param comment: what the column holds, shown in the Glue Data Catalog.
    :param required: a row without a value here is rejected (raw) or fails data quality (curated).
    :param minimum: smallest allowed value (inclusive), for numbers.
    :param maximum: largest allowed value (inclusive), for numbers.
    :param allowed: the only values allowed, for categories.
    """

    name: str
    type: str
    comment: str
    required: bool = True
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A lake table: where it lives, its columns, partition keys and unique key.

    :param name: table name in its zone's Glue database.
    :param zone: lake zone (``raw``, ``curated`` or ``analytics``): which bucket and database.
    :param prefix: key prefix of the table's data in the zone bucket, ending in ``/``.
    :param columns: data columns, in file order.
    :param partition_keys: partition columns (``key=value`` folders), not stored in the files; days
        are ``yyyy-MM-dd`` strings, the type Athena's date partition projection reads.
    :param key: columns whose values identify a row; empty when rows have no key.
    :param description: what a row is, shown in the Glue Data Catalog.
    """

    name: str
    zone: str
    prefix: str
    columns: tuple[Column, ...]
    description: str
    partition_keys: tuple[Column, ...] = ()
    key: tuple[str, ...] = ()
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {column.name: column for column in (*self.columns, *self.partition_keys)}
        if len(by_name) != len(self.columns) + len(self.partition_keys):
            raise ValueError(f"{self.name}: duplicate column names")
        if not set(self.key) <= set(by_name):
            raise ValueError(f"{self.name}: key {self.key} names unknown columns")
        object.__setattr__(self, "_by_name", by_name)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of the data columns, in file order."""
        return tuple(column.name for column in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Names of the data columns that must hold a value."""
        return tuple(column.name for column in self.columns if column.required)

    def column(self, name: str) -> Column:
        """The column called ``name`` (data or partition column)."""
        return self._by_name[name]


CURRENCIES = ("EUR", "GBP", "USD")
PAYMENT_TYPES = ("card", "cash", "mobile", "gift_card")
QUANTITY = (Decimal(1), Decimal(1000))
"""Smallest and largest quantity of one line; beyond it a register mis-keyed the line."""
UNIT_PRICE = (Decimal("0.01"), Decimal("10000.00"))
"""Smallest and largest unit price of one product, in the store's currency."""

TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss[.SSSSSSSSS]XXX"
"""How registers write ``sold_at`` (a Spark datetime pattern, parsed with Spark's ``CORRECTED`` parser
policy, :data:`workloads.lake_io.SESSION_CONF`): ISO 8601 date and time to the second, optionally
1 to 9 digits of fractions, then the UTC offset as ``+01:00`` or ``Z``. The store-local day comes
from the store's time zone (``stores.timezone``), never from the offset written."""

_TRANSACTION_ID = Column("transaction_id", "string", "Register transaction ID, unique within its store")
_LINE_NUMBER = Column("line_number", "int", "Line of the transaction, from 1", minimum=Decimal(1))
_STORE_ID = Column("store_id", "string", "Store that made the sale")
_PRODUCT_ID = Column("product_id", "string", "Product sold")
_CURRENCY = Column("currency", "string", "ISO 4217 currency of the prices", allowed=CURRENCIES)
_PAYMENT_TYPE = Column(
    "payment_type",
    "string",
    "How the customer paid; empty when unknown",
    required=False,
    allowed=PAYMENT_TYPES,
)


def _raw(column: Column, comment: str | None = None) -> Column:
    """The landing form of a column: text exactly as the register wrote it."""
    return Column(column.name, "string", comment or column.comment, required=column.required)


_RAW_TRANSACTION_COLUMNS = (
    _raw(_TRANSACTION_ID),
    _raw(_LINE_NUMBER),
    _raw(_STORE_ID),
    _raw(_PRODUCT_ID),
    Column(
        "sold_at",
        "string",
        "Time of the sale with its UTC offset, e.g. 2026-03-02T14:05:09+01:00 (TIMESTAMP_FORMAT)",
    ),
    _raw(Column("quantity", "int", "Units sold")),
    _raw(Column("unit_price", "decimal(10,2)", "Price of one unit")),
    _raw(_CURRENCY),
    _raw(_PAYMENT_TYPE),
)
_INGEST_DATE = Column("ingest_date", "string", "Business day the upload belongs to (yyyy-MM-dd)")


def _raw_transactions(upload_format: str) -> Table:
    return Table(
        name=f"transactions_{upload_format}",
        zone="raw",
        prefix=f"transactions_{upload_format}/",
        description=f"Point-of-sale lines as registers upload them ({upload_format}), one folder per day",
        columns=_RAW_TRANSACTION_COLUMNS,
        partition_keys=(_INGEST_DATE,),
    )


RAW_TRANSACTIONS = {upload_format: _raw_transactions(upload_format) for upload_format in ("csv", "json")}
"""Raw point-of-sale lines by upload format: CSV with a header row, or JSON lines (one object per
line, keys = column names). Registers upload into ``<prefix>ingest_date=<yyyy-MM-dd>/`` folders, one
per business day; every value is text until the ETL job types it. The crawler catalogs them."""

RAW_STORES = Table(
    name="stores",
    zone="raw",
    prefix="stores/",
    description="Store master data: one row per store, uploaded as one CSV file with a header",
    columns=(
        _raw(_STORE_ID),
        Column("store_name", "string", "Display name"),
        Column("city", "string", "City"),
        Column("region", "string", "Sales region"),
        Column("timezone", "string", "IANA time zone of the store"),
        Column("opened_on", "string", "Opening day (yyyy-MM-dd)"),
    ),
    key=("store_id",),
)
"""The stores the ETL job accepts sales from."""

CURATED_TRANSACTIONS = Table(
    name="transactions",
    zone="curated",
    prefix="transactions/",
    description="Clean, typed, deduplicated point-of-sale lines, one partition per store-local sale day",
    columns=(
        _TRANSACTION_ID,
        _LINE_NUMBER,
        _STORE_ID,
        _PRODUCT_ID,
        Column("sold_at", "timestamp", "Instant of the sale (UTC)"),
        Column("quantity", "int", "Units sold", minimum=QUANTITY[0], maximum=QUANTITY[1]),
        Column(
            "unit_price", "decimal(10,2)", "Price of one unit", minimum=UNIT_PRICE[0], maximum=UNIT_PRICE[1]
        ),
        _CURRENCY,
        _PAYMENT_TYPE,
        Column("net_amount", "decimal(12,2)", "quantity x unit_price", minimum=UNIT_PRICE[0]),
        Column("source_file", "string", "Raw file the line came from (lineage)"),
    ),
    partition_keys=(Column("sale_date", "string", "Store-local day of the sale (yyyy-MM-dd)"),),
    key=("store_id", "transaction_id", "line_number"),
)
"""What the Glue ETL job writes: one row per sale line, unique on :attr:`Table.key` (registers number
their transactions per store, so the same ID from two stores is two sales)."""

QUARANTINE = Table(
    name="transactions_quarantine",
    zone="curated",
    prefix="quarantine/transactions/",
    description="Raw lines (or whole files) the ETL job rejected, with the reason; nothing is dropped",
    columns=(
        Column("source_file", "string", "Raw file the line came from"),
        Column("source_line", "int", "Line in the file, from 1 (header is line 1 of a CSV); 0: whole file"),
        Column("reason", "string", "Why the line was rejected (see REJECTION_REASONS)"),
        Column("detail", "string", "What exactly was wrong"),
        Column("record", "string", "The line as uploaded; empty for a whole unreadable file", required=False),
    ),
    partition_keys=(Column("ingest_date", "string", "Business day of the upload (yyyy-MM-dd)"),),
)
"""Rejected raw input, partitioned by the ingest day it came in."""

REJECTION_REASONS = (
    "unreadable_file",
    "malformed_row",
    "missing_required_field",
    "bad_timestamp",
    "bad_amount",
    "invalid_value",
    "unknown_store",
    "wrong_ingest_day",
    "duplicate",
    "conflicting_duplicate",
)
"""Every ``reason`` a quarantined line can carry, in the order the ETL job checks them."""


def _past_revenue(name: str, comment: str) -> Column:
    """A lag or average of past revenue: never negative, empty when the history is too short."""
    return Column(name, "double", comment, required=False, minimum=Decimal(0))


def _actual(name: str, type_: str, comment: str) -> Column:
    """What a store sold on the day: empty on the forecast row, the day after the feature run's last."""
    return Column(name, type_, f"{comment}; empty on the forecast row", required=False, minimum=Decimal(0))


STORE_DAILY_FEATURES = Table(
    name="store_daily_features",
    zone="analytics",
    prefix="store_daily_features/",
    description="Daily sales per store with calendar and lag features, the input of demand forecasting",
    columns=(
        _STORE_ID,
        Column("region", "string", "Sales region of the store"),
        _actual("transactions", "bigint", "Distinct transactions"),
        _actual("units_sold", "bigint", "Sum of quantity"),
        _actual("revenue", "decimal(14,2)", "Sum of net_amount"),
        _actual("avg_basket_value", "double", "revenue / transactions"),
        Column("day_of_week", "int", "1 = Monday ... 7 = Sunday", minimum=Decimal(1), maximum=Decimal(7)),
        Column("is_weekend", "boolean", "Saturday or Sunday"),
        Column("is_holiday", "boolean", "A public holiday of the store's market (workloads.emr.holidays)"),
        _past_revenue("revenue_lag_1d", "Revenue of the day before; empty when unknown"),
        _past_revenue("revenue_lag_7d", "Revenue a week before; empty when unknown"),
        _past_revenue("revenue_avg_7d", "Mean revenue of sale days among the 7 before"),
        _past_revenue("revenue_avg_28d", "Mean revenue of sale days among the 28 before"),
    ),
    partition_keys=(Column("sale_date", "string", "Store-local day (yyyy-MM-dd)"),),
    key=("store_id", "sale_date"),
)
"""Features the EMR Spark step writes and SageMaker trains on. Each run also writes the day after its
last, the *forecast row* of every store: the same features (they read only earlier days and the
calendar) with the actual columns empty; the Forecast step scores it, training skips it, and the
next day's run replaces it with what the store sold."""

_FORECAST_DATE = Column("forecast_date", "string", "Store-local day forecast (yyyy-MM-dd)")
_MODEL_VERSION = Column(
    "model_version", "int", "Version of the model package that made the forecast", minimum=Decimal(1)
)

STORE_FORECASTS = Table(
    name="store_forecasts",
    zone="analytics",
    prefix="store_forecasts/",
    description="Revenue forecast per store and day by each approved model version that scored the day",
    columns=(
        _STORE_ID,
        Column("forecast", "double", "Forecast revenue, in the store's currency"),
        _MODEL_VERSION,
        Column("run_id", "string", "The run that made the forecast (pipeline execution name)"),
    ),
    partition_keys=(_FORECAST_DATE,),
    key=("store_id", "forecast_date", "model_version"),
)
"""What the Forecast step writes: one file per forecast day and model version
(``forecast_date=<day>/model-<version>.parquet``), so scoring a day again with the same version
replaces exactly its rows and another version's stay beside them."""


@dataclass(frozen=True)
class View:
    """A lake view: a query over tables of one zone's database, in the SQL both Athena (Trino) and
    Spark run, so the demo computes what the dashboard shows with the same text.

    :param name: view name in its zone's Glue database.
    :param zone: the zone whose database holds it and the tables it reads (unqualified).
    :param description: what a row is.
    :param columns: what the query returns, in order, with types it casts to explicitly (Athena
        refuses a view whose stored types differ from its query's).
    :param sql: the query.
    :param reads: the tables the query reads.
    """

    name: str
    zone: str
    description: str
    columns: tuple[Column, ...]
    sql: str
    reads: tuple[Table, ...]
    partition_keys: tuple[Column, ...] = ()


_ACTUAL = "CAST(a.revenue AS double)"
_ERROR = f"abs(f.forecast - {_ACTUAL})"

FORECASTS_VS_ACTUALS = View(
    name="forecasts_vs_actuals",
    zone="analytics",
    description="Each store-day's forecast by the newest model version that scored it, with what sold",
    columns=(
        _STORE_ID,
        _FORECAST_DATE,
        _MODEL_VERSION,
        Column("forecast", "double", "Forecast revenue"),
        Column("actual", "double", "Revenue sold; empty until the day's features are in", required=False),
        Column("abs_error", "double", "|forecast - actual|; empty until then", required=False),
        Column("run_id", "string", "The run that made the forecast"),
    ),
    sql=f"""SELECT f.store_id, f.forecast_date, f.model_version, f.forecast,
  {_ACTUAL} AS actual, {_ERROR} AS abs_error, f.run_id
FROM store_forecasts f
JOIN (
  SELECT store_id, forecast_date, max(model_version) AS newest
  FROM store_forecasts GROUP BY store_id, forecast_date
) n ON n.store_id = f.store_id AND n.forecast_date = f.forecast_date AND n.newest = f.model_version
LEFT JOIN store_daily_features a
  ON a.store_id = f.store_id AND a.sale_date = f.forecast_date AND a.revenue IS NOT NULL""",
    reads=(STORE_FORECASTS, STORE_DAILY_FEATURES),
)
"""What a store manager compares: the forecast the platform made for a day, and the day's sales."""

_WAPE = f"CASE WHEN sum({_ACTUAL}) > 0 THEN sum({_ERROR}) / sum({_ACTUAL}) END"

FORECAST_ACCURACY = View(
    name="forecast_accuracy",
    zone="analytics",
    description="WAPE per forecast day and model version, over the stores whose sales are in",
    columns=(
        _FORECAST_DATE,
        _MODEL_VERSION,
        Column("stores", "bigint", "Stores forecast whose sales are in"),
        Column("actual", "double", "Their revenue"),
        Column("abs_error", "double", "Sum of |forecast - actual|"),
        Column("wape", "double", "abs_error / actual (empty when nothing sold)", required=False),
    ),
    sql=f"""SELECT f.forecast_date, f.model_version, CAST(count(*) AS bigint) AS stores,
  sum({_ACTUAL}) AS actual, sum({_ERROR}) AS abs_error, {_WAPE} AS wape
FROM store_forecasts f
JOIN store_daily_features a ON a.store_id = f.store_id AND a.sale_date = f.forecast_date
WHERE a.revenue IS NOT NULL
GROUP BY f.forecast_date, f.model_version""",
    reads=(STORE_FORECASTS, STORE_DAILY_FEATURES),
)
"""How accurate each model version was on each day: drift shows as a rising line."""

RECENT_WAPE_SQL = f"""SELECT CASE WHEN sum(actual) > 0 THEN sum(abs_error) / sum(actual) END AS wape
FROM {FORECASTS_VS_ACTUALS.name} WHERE actual IS NOT NULL AND forecast_date >= '{{first_day}}'"""
"""The WAPE of the platform's forecasts (the newest version's per store-day) from ``{first_day}`` on,
the figure the drift alarm watches; ``{first_day}`` is a ``yyyy-MM-dd`` day."""

CATALOG_TABLES = (CURATED_TRANSACTIONS, QUARANTINE, STORE_DAILY_FEATURES, STORE_FORECASTS)
"""Tables defined in code (the raw tables are cataloged by the crawler)."""
CATALOG_VIEWS = (FORECASTS_VS_ACTUALS, FORECAST_ACCURACY)
"""Views defined in code, over the analytics tables."""

TEMPORARY_FILE_PATTERNS = ("**/_*", "**/.*", "**/*.tmp", "**/*_$folder$", "**/*.crc")
"""Glob patterns of files that are not data: markers, hidden and temporary files, checksums.
The crawler excludes them and the ETL job skips them."""

LEGACY_PERSONAL_DATA_PREFIXES = {"frames": "video/frames/", "captures": "sagemaker/data-capture/"}
"""Where earlier versions wrote camera frames and captured endpoint requests in the raw zone, before
each class got a bucket and key of its own. No grant on raw reaches these prefixes, and the raw
bucket still expires what is left there after ``lake.personal_data_retention_days``."""
