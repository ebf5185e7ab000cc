"""Catalog tables of the lake: columns, partition keys and projection come from the schema module."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import Synthesized
from workloads.schema import CATALOG_TABLES, CATALOG_VIEWS, Table, View

STACK = "DataLake"


def _table(env: Synthesized, table: Table | View) -> dict:
    found = [
        r["Properties"]
        for r in env.resources(STACK, "AWS::Glue::Table").values()
        if r["Properties"]["TableInput"]["Name"] == table.name
        and r["Properties"]["DatabaseName"] == f"dsp_{env.settings.environment}_{table.zone}"
    ]
    assert len(found) == 1, table.name
    return found[0]


@pytest.mark.parametrize("table", CATALOG_TABLES, ids=[t.name for t in CATALOG_TABLES])
def test_columns_and_partition_keys_equal_the_schema_module(env: Synthesized, table: Table) -> None:
    props = _table(env, table)["TableInput"]
    columns = [(c["Name"], c["Type"]) for c in props["StorageDescriptor"]["Columns"]]
    assert columns == [(c.name, c.type) for c in table.columns]
    assert [(c["Name"], c["Type"]) for c in props["PartitionKeys"]] == [
        (c.name, c.type) for c in table.partition_keys
    ]


@pytest.mark.parametrize("table", CATALOG_TABLES, ids=[t.name for t in CATALOG_TABLES])
def test_parquet_at_the_zone_prefix_with_date_partition_projection(env: Synthesized, table: Table) -> None:
    props = _table(env, table)["TableInput"]
    assert props["Parameters"]["classification"] == "parquet"
    assert props["Parameters"]["has_encrypted_data"] is False  # SSE-KMS is server side
    location = props["StorageDescriptor"]["Location"]["Fn::Join"][1]
    assert location[-1] == f"/{table.prefix}"
    (key,) = table.partition_keys
    assert {k: v for k, v in props["Parameters"].items() if k.startswith("projection")} == {
        "projection.enabled": "true",
        f"projection.{key.name}.type": "date",
        f"projection.{key.name}.format": "yyyy-MM-dd",
        f"projection.{key.name}.range": "2020-01-01,NOW+1DAYS",  # the forecast day may be tomorrow in UTC
    }


def test_tables_wait_for_their_databases_and_prod_retains_them(env: Synthesized) -> None:
    for resource in env.resources(STACK, "AWS::Glue::Table").values():
        assert any(dep.startswith("Catalog") for dep in resource["DependsOn"])
        expected = "Delete" if env.settings.destroy_on_delete else "Retain"
        assert resource["DeletionPolicy"] == expected


@pytest.mark.parametrize("view", CATALOG_VIEWS, ids=[v.name for v in CATALOG_VIEWS])
def test_views_are_athena_views_of_the_schema_modules_sql(env: Synthesized, view: View) -> None:
    """What Athena stores for a view it creates: the SQL, catalog, schema and columns as base64 JSON
    in ``ViewOriginalText``, with Presto type names that match the query's casts."""
    props = _table(env, view)["TableInput"]
    assert props["TableType"] == "VIRTUAL_VIEW"
    assert props["Parameters"] == {"presto_view": "true", "comment": "Presto View"}
    assert props["ViewExpandedText"] == "/* Presto View */"
    text = props["ViewOriginalText"]
    assert text.startswith("/* Presto View: ") and text.endswith(" */")
    stored = json.loads(base64.b64decode(text.removeprefix("/* Presto View: ").removesuffix(" */")))
    database = f"dsp_{env.settings.environment}_{view.zone}"
    assert (stored["originalSql"], stored["catalog"], stored["schema"]) == (
        view.sql,
        "awsdatacatalog",
        database,
    )
    presto = {"string": "varchar", "int": "integer", "bigint": "bigint", "double": "double"}
    assert stored["columns"] == [{"name": c.name, "type": presto[c.type]} for c in view.columns]
    columns = [(c["Name"], c["Type"]) for c in props["StorageDescriptor"]["Columns"]]
    assert columns == [(c.name, c.type) for c in view.columns]
    for table in view.reads:  # unqualified names: the view's own database holds them
        assert table.zone == view.zone and f" {table.name} " in f"{view.sql} "
