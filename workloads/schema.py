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


STORE_DAILY_FEATURES = Table(
    name="store_daily_features",
    zone="analytics",
    prefix="store_daily_features/",
    description="Daily sales per store with calendar and lag features, the input of demand forecasting",
    columns=(
        _STORE_ID,
        Column("region", "string", "Sales region of the store"),
        Column("transactions", "bigint", "Distinct transactions", minimum=Decimal(0)),
        Column("units_sold", "bigint", "Sum of quantity", minimum=Decimal(0)),
        Column("revenue", "decimal(14,2)", "Sum of net_amount", minimum=Decimal(0)),
        Column("avg_basket_value", "double", "revenue / transactions", minimum=Decimal(0)),
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
"""Features the EMR Spark step writes and SageMaker trains on."""

CATALOG_TABLES = (CURATED_TRANSACTIONS, QUARANTINE, STORE_DAILY_FEATURES)
"""Tables defined in code (the raw tables are cataloged by the crawler)."""

TEMPORARY_FILE_PATTERNS = ("**/_*", "**/.*", "**/*.tmp", "**/*_$folder$", "**/*.crc")
"""Glob patterns of files that are not data: markers, hidden and temporary files, checksums.
The crawler excludes them and the ETL job skips them."""

LEGACY_PERSONAL_DATA_PREFIXES = {"frames": "video/frames/", "captures": "sagemaker/data-capture/"}
"""Where earlier versions wrote camera frames and captured endpoint requests in the raw zone, before
each class got a bucket and key of its own. No grant on raw reaches these prefixes, and the raw
bucket still expires what is left there after ``lake.personal_data_retention_days``."""
