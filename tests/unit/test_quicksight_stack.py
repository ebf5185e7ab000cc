"""QuickSightStack: the Athena data source, SPICE datasets from the schema, refreshes, groups, dashboard."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from aws_cdk import App
from botocore.validate import ParamValidator

from app import Platform, create_app
from config.settings import RefreshSettings, load_settings
from platform_constructs.lake_access import READ_ACTIONS, WRITE_ACTIONS
from platform_constructs.quicksight.dashboard import referenced_columns
from stacks.quicksight_stack import refresh_frequency
from tests.conftest import Synthesized
from tests.unit.policies import as_list, lake_grants, role_statements
from workloads.schema import (
    CURATED_TRANSACTIONS,
    FORECAST_ACCURACY,
    FORECASTS_VS_ACTUALS,
    STORE_DAILY_FEATURES,
    STORE_FORECASTS,
)

STACK = "QuickSight"
DATA_SOURCE, ROLE = "AthenaBC8BA882", "AthenaRole15487EBC"
DATASETS = {
    "sales": ("SalesDataset50F4CE44", CURATED_TRANSACTIONS),
    "daily": ("DailyDataset09584E91", STORE_DAILY_FEATURES),
    "forecasts": ("ForecastsDataset4AB25DCC", FORECASTS_VS_ACTUALS),
    "accuracy": ("AccuracyDataset53635C51", FORECAST_ACCURACY),
}
"""Both environments forecast: the sales, the daily features, and the forecast views."""
DASHBOARD = "Dashboard9E4231ED"
GROUPS_ROLE, GROUPS_POLICY = "GroupsRole07FEC5C6", "GroupsRoleDefaultPolicyC0C000B6"
ROOT = Path(__file__).resolve().parents[2]
S3 = lambda actions: {a for a in actions if a.startswith("s3:")}  # noqa: E731


def _physical(env: Synthesized, dataset: str) -> dict[str, Any]:
    return env.properties(STACK, dataset)["PhysicalTableMap"]["table"]["RelationalTable"]  # type: ignore[no-any-return]


def test_data_source_is_athena_on_the_workgroup_with_ssl_and_its_own_role(env: Synthesized) -> None:
    props = env.properties(STACK, DATA_SOURCE)
    assert props["Type"] == "ATHENA"
    assert props["DataSourceParameters"]["AthenaParameters"] == {
        "WorkGroup": env.settings.name_prefix,
        "RoleArn": {"Fn::GetAtt": [ROLE, "Arn"]},
    }
    assert props["SslProperties"] == {"DisableSsl": False}
    trust = env.properties(STACK, ROLE)["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "quicksight.amazonaws.com"}]


def test_data_source_role_reads_the_tables_and_writes_query_results_only(env: Synthesized) -> None:
    grants = lake_grants(env, STACK, ROLE)
    assert grants == {
        "curated": (S3(READ_ACTIONS), {"", f"/{CURATED_TRANSACTIONS.prefix}*"}),
        # the features, and the forecasts the views join with them
        "analytics": (
            S3(READ_ACTIONS),
            {"", f"/{STORE_DAILY_FEATURES.prefix}*", f"/{STORE_FORECASTS.prefix}*"},
        ),
        "artifacts": (S3(WRITE_ACTIONS), {"", "/athena-results/*"}),
    }
    statements = role_statements(env, STACK, ROLE)
    (athena,) = [s for s in statements if "athena:StartQueryExecution" in as_list(s["Action"])]
    assert f"workgroup/{env.settings.name_prefix}" in json.dumps(athena["Resource"])
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert not [a for a in actions if a.endswith("*")]


def test_spice_datasets_take_their_columns_and_types_from_the_schema_module(env: Synthesized) -> None:
    for logical_id, table in DATASETS.values():
        props = env.properties(STACK, logical_id)
        assert props["ImportMode"] == "SPICE"
        physical = _physical(env, logical_id)
        assert physical["Name"] == table.name and physical["Catalog"] == "AwsDataCatalog"
        assert physical["Schema"] == f"{env.settings.name_prefix}_{table.zone}".replace("-", "_")
        assert [c["Name"] for c in physical["InputColumns"]] == [
            c.name for c in (*table.columns, *table.partition_keys)
        ]
        types = {c["Name"]: c["Type"] for c in physical["InputColumns"]}
        strings = [c.name for c in (*table.columns, *table.partition_keys) if c.type == "string"]
        assert strings and all(types[name] == "STRING" for name in strings)  # the days among them
    sales = {c["Name"]: c["Type"] for c in _physical(env, DATASETS["sales"][0])["InputColumns"]}
    assert (sales["net_amount"], sales["quantity"], sales["sold_at"]) == ("DECIMAL", "INTEGER", "DATETIME")
    daily = {c["Name"]: c["Type"] for c in _physical(env, DATASETS["daily"][0])["InputColumns"]}
    assert (daily["revenue"], daily["units_sold"]) == ("DECIMAL", "INTEGER")


def test_each_dataset_has_a_refresh_schedule_from_config(env: Synthesized) -> None:
    refresh = env.settings.quicksight.refresh
    schedules = env.resources(STACK, "AWS::QuickSight::RefreshSchedule")
    if env.settings.pipeline.enabled:  # the pipeline re-imports after each run
        assert schedules == {}
        return
    assert len(schedules) == len(DATASETS)
    ids = {env.properties(STACK, logical_id)["DataSetId"] for logical_id, _ in DATASETS.values()}
    assert {s["Properties"]["DataSetId"] for s in schedules.values()} == ids
    for schedule in schedules.values():
        frequency = schedule["Properties"]["Schedule"]["ScheduleFrequency"]
        assert (frequency["Interval"], frequency["TimeOfTheDay"], frequency["TimeZone"]) == (
            refresh.interval,
            refresh.time_of_day,
            refresh.timezone,
        )
        assert schedule["Properties"]["Schedule"]["RefreshType"] == "FULL_REFRESH"


VIEWER = {
    "dashboard": {"DescribeDashboard", "ListDashboardVersions", "QueryDashboard"},
}
OWNER = {
    "data_source": {
        "DescribeDataSource",
        "DescribeDataSourcePermissions",
        "PassDataSource",
        "UpdateDataSource",
        "DeleteDataSource",
        "UpdateDataSourcePermissions",
    },
    "data_set": {
        "DescribeDataSet",
        "DescribeDataSetPermissions",
        "PassDataSet",
        "DescribeIngestion",
        "ListIngestions",
        "UpdateDataSet",
        "DeleteDataSet",
        "CreateIngestion",
        "CancelIngestion",
        "UpdateDataSetPermissions",
        "CreateRefreshSchedule",
        "UpdateRefreshSchedule",
        "DeleteRefreshSchedule",
        "DescribeRefreshSchedule",
        "ListRefreshSchedules",
        "PutDataSetRefreshProperties",
        "DescribeDataSetRefreshProperties",
        "DeleteDataSetRefreshProperties",
    },
    "dashboard": {
        "DescribeDashboard",
        "ListDashboardVersions",
        "QueryDashboard",
        "UpdateDashboard",
        "DeleteDashboard",
        "DescribeDashboardPermissions",
        "UpdateDashboardPermissions",
        "UpdateDashboardPublishedVersion",
    },
}
"""The documented owner and viewer action sets, written out here rather than read from the code."""


def test_authors_own_everything_and_viewers_may_only_view_the_dashboard(env: Synthesized) -> None:
    config = env.settings.quicksight
    kinds = {DATA_SOURCE: "data_source", DASHBOARD: "dashboard"} | {
        lid: "data_set" for lid, _ in DATASETS.values()
    }
    for logical_id, kind in kinds.items():
        permissions = env.properties(STACK, logical_id)["Permissions"]
        by_group = {
            _group(p["Principal"]): {a.removeprefix("quicksight:") for a in p["Actions"]} for p in permissions
        }
        authors, viewers = env.settings.bi_groups
        expected = {group: OWNER[kind] for group in authors}
        if kind in VIEWER:
            expected |= {group: VIEWER[kind] for group in viewers}
        assert by_group == expected, logical_id
        for permission in permissions:
            parts = permission["Principal"]["Fn::Join"][1]
            assert (
                parts[0] == "arn:" and {"Ref": "AWS::Region"} in parts and {"Ref": "AWS::AccountId"} in parts
            )
            assert parts[-1].startswith(f":group/{config.namespace}/")


@pytest.mark.parametrize(
    ("interval", "day", "on_day"),
    [
        ("HOURLY", None, None),
        ("DAILY", None, None),
        ("WEEKLY", "MONDAY", "day_of_week"),
        ("MONTHLY", "15", "day_of_month"),
    ],
)
def test_refresh_frequency_follows_the_interval(interval: str, day: str | None, on_day: str | None) -> None:
    refresh = RefreshSettings(interval=interval, time_of_day="03:30", day=day, timezone="Europe/Paris")
    frequency = refresh_frequency(refresh)
    assert (frequency.interval, frequency.time_zone) == (interval, "Europe/Paris")
    assert frequency.time_of_the_day == (None if interval == "HOURLY" else "03:30")
    if on_day is None:
        assert frequency.refresh_on_day is None
    else:
        assert getattr(frequency.refresh_on_day, on_day) == day


def test_datasets_import_without_holding_up_the_deployment(env: Synthesized) -> None:
    for logical_id, table in DATASETS.values():
        props = env.properties(STACK, logical_id)
        assert props["IngestionWaitPolicy"] == {"WaitForSpiceIngestion": False}
        subtypes = {c["Name"]: c.get("SubType") for c in _physical(env, logical_id)["InputColumns"]}
        if table is STORE_DAILY_FEATURES:
            assert (subtypes["revenue"], subtypes["avg_basket_value"], subtypes["store_id"]) == (
                "FIXED",
                "FLOAT",
                None,
            )


def _group(principal: dict[str, Any]) -> str:
    """The group name at the end of a group ARN written as ``Fn::Join``."""
    return str(principal["Fn::Join"][1][-1]).rsplit("/", 1)[1]


def _rendered(value: Any) -> str:
    """A template string value with ``Ref``s written as ``${name}``."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"${{{value['Ref']}}}"
    return "".join(_rendered(part) for part in value["Fn::Join"][1])


def _group_calls(template: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Group name -> its custom resource's SDK calls (Create, Update, Delete) as JSON."""
    calls = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "Custom::QuickSightGroup":
            props = resource["Properties"]
            parsed = {when: json.loads(_rendered(props[when])) for when in ("Create", "Update", "Delete")}
            calls[parsed["Create"]["parameters"]["GroupName"]] = parsed
    return calls


def test_groups_are_created_through_the_quicksight_api_not_the_us_east_1_only_type(env: Synthesized) -> None:
    """``AWS::QuickSight::Group`` is in CloudFormation's registry for us-east-1 only."""
    assert env.resources(STACK, "AWS::QuickSight::Group") == {}
    calls = _group_calls(env.raw(STACK))
    name = env.settings.name_prefix
    assert env.settings.bi_groups == ([f"{name}-bi-authors"], [f"{name}-bi-viewers"])  # the defaults
    assert set(calls) == {*env.settings.bi_groups[0], *env.settings.bi_groups[1]}
    names = {"AwsAccountId": "${AWS::AccountId}", "Namespace": env.settings.quicksight.namespace}
    for group, call in calls.items():
        create, delete = call["Create"], call["Delete"]
        assert call["Update"] == create  # a renamed group is created, and the old one deleted
        assert (create["service"], create["action"], delete["action"]) == (
            "QuickSight",
            "CreateGroup",
            "DeleteGroup",
        )
        assert "region" not in create and "region" not in delete  # the stack's own region
        assert create["parameters"] == {
            **names,
            "GroupName": group,
            "Description": create["parameters"]["Description"],
        }
        assert delete["parameters"] == {**names, "GroupName": group}
        assert create["ignoreErrorCodesMatching"] == "ResourceExistsException"
        assert delete["ignoreErrorCodesMatching"] == "ResourceNotFoundException"
        assert create["physicalResourceId"] == {"id": f"${{AWS::Region}}/{names['Namespace']}/{group}"}


def test_the_group_calls_match_the_quicksight_service_model(env: Synthesized) -> None:
    model = botocore.session.get_session().get_service_model("quicksight")
    samples = {"${AWS::AccountId}": "123456789012"}
    for call in _group_calls(env.raw(STACK)).values():
        for when in ("Create", "Delete"):
            operation = model.operation_model(call[when]["action"])  # raises if it does not exist
            parameters = {k: samples.get(v, v) for k, v in call[when]["parameters"].items()}
            report = ParamValidator().validate(parameters, operation.input_shape)
            assert not report.has_errors(), f"{when}: {report.generate_report()}"
    errors = {shape.name for shape in model.operation_model("CreateGroup").error_shapes}
    assert "ResourceExistsException" in errors
    assert "ResourceNotFoundException" in {s.name for s in model.operation_model("DeleteGroup").error_shapes}


def test_the_group_function_may_create_and_delete_exactly_the_groups(env: Synthesized) -> None:
    statements = role_statements(env, STACK, GROUPS_ROLE)
    (groups,) = [s for s in statements if any(a.startswith("quicksight:") for a in as_list(s["Action"]))]
    assert sorted(as_list(groups["Action"])) == ["quicksight:CreateGroup", "quicksight:DeleteGroup"]
    namespace = env.settings.quicksight.namespace
    assert sorted(_rendered(arn) for arn in groups["Resource"]) == sorted(
        f"arn:${{AWS::Partition}}:quicksight:${{AWS::Region}}:${{AWS::AccountId}}:group/{namespace}/{group}"
        for group in (*env.settings.bi_groups[0], *env.settings.bi_groups[1])
    )
    (function,) = [
        r["Properties"]
        for r in env.resources(STACK, "AWS::Lambda::Function").values()
        if r["Properties"]["Role"] == {"Fn::GetAtt": [GROUPS_ROLE, "Arn"]}
    ]
    (log_group,) = [
        r["Properties"]
        for i, r in env.resources(STACK, "AWS::Logs::LogGroup").items()
        if i.startswith("GroupsLogs")
    ]
    assert function["LoggingConfig"]["LogGroup"]["Ref"].startswith("GroupsLogs")
    assert (
        log_group["RetentionInDays"] == env.settings.quicksight.log_retention_days and "KmsKeyId" in log_group
    )


@pytest.mark.parametrize("region", ["eu-west-1", "us-west-2"])
def test_the_quicksight_template_lints_clean_outside_us_east_1(dev: Synthesized, region: str) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    template = str(dev.outdir / "QuickSight.template.json")
    result = subprocess.run(
        [str(cfn_lint), "--regions", region, "--", template], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_separate_identity_region_gets_the_groups_and_the_permissions_there(tmp_path: Path) -> None:
    settings = load_settings("dev")
    quicksight = settings.quicksight.model_copy(update={"identity_region": "us-east-1"})
    app, _ = create_app(settings.model_copy(update={"quicksight": quicksight}), outdir=str(tmp_path))
    app.synth()
    template = json.loads((tmp_path / "QuickSight.template.json").read_text())
    calls = _group_calls(template)
    assert calls and all(c[w]["region"] == "us-east-1" for c in calls.values() for w in ("Create", "Delete"))
    assert all(c["Create"]["physicalResourceId"]["id"].startswith("us-east-1/") for c in calls.values())
    policy = json.dumps(template["Resources"][GROUPS_POLICY]["Properties"]["PolicyDocument"])
    assert ":quicksight:us-east-1:" in policy and ':quicksight:", {"Ref": "AWS::Region"}' not in policy
    principals = json.dumps(template["Resources"][DASHBOARD]["Properties"]["Permissions"])
    assert ":quicksight:us-east-1:" in principals


def test_dashboard_readers_cannot_export_its_data_unless_configured(env: Synthesized) -> None:
    options = env.properties(STACK, DASHBOARD)["DashboardPublishOptions"]
    status = "ENABLED" if env.settings.quicksight.csv_export else "DISABLED"
    assert options == {"ExportToCSVOption": {"AvailabilityStatus": status}} and status == "DISABLED"


def test_dashboard_uses_only_datasets_and_fields_that_exist(env: Synthesized) -> None:
    definition = env.properties(STACK, DASHBOARD)["Definition"]
    declared = {d["Identifier"]: d["DataSetArn"] for d in definition["DataSetIdentifierDeclarations"]}
    assert declared == {
        name: {"Fn::GetAtt": [logical_id, "Arn"]} for name, (logical_id, _) in DATASETS.items()
    }
    available = {}
    for name, (logical_id, _) in DATASETS.items():
        props = env.properties(STACK, logical_id)
        calculated = [
            column["ColumnName"]
            for transform in props["LogicalTableMap"]["table"].get("DataTransforms", [])
            for column in transform["CreateColumnsOperation"]["Columns"]
        ]
        available[name] = {c["Name"] for c in _physical(env, logical_id)["InputColumns"]} | set(calculated)
    used = referenced_columns(definition)
    assert used  # the visuals read real columns
    assert all(column in available[dataset] for dataset, column in used), used
    sheets = {sheet["Name"]: sheet for sheet in definition["Sheets"]}
    assert [next(iter(v)) for v in sheets["Sales"]["Visuals"]] == ["LineChartVisual", "BarChartVisual"]
    forecasts = {next(iter(v.values()))["VisualId"]: v for v in sheets["Forecasts"]["Visuals"]}
    assert list(forecasts) == ["forecast-vs-actual-by-store", "wape-over-time"]
    wells = forecasts["forecast-vs-actual-by-store"]["LineChartVisual"]["ChartConfiguration"]["FieldWells"]
    per_store = wells["LineChartAggregatedFieldWells"]
    assert referenced_columns(per_store["Values"]) == {("forecasts", "forecast"), ("forecasts", "actual")}
    assert referenced_columns(per_store["SmallMultiples"]) == {("forecasts", "store_id")}  # one chart a store
    wells = forecasts["wape-over-time"]["LineChartVisual"]["ChartConfiguration"]["FieldWells"]
    over_time = wells["LineChartAggregatedFieldWells"]
    assert referenced_columns(over_time["Values"]) == {("accuracy", "wape")}
    assert referenced_columns(over_time["Colors"]) == {("accuracy", "model_version")}  # a line per version
    for sheet in sheets.values():
        placed = [e["ElementId"] for e in sheet["Layouts"][0]["Configuration"]["GridLayout"]["Elements"]]
        assert placed == [next(iter(v.values()))["VisualId"] for v in sheet["Visuals"]]
    assert env.properties(STACK, DASHBOARD)["ValidationStrategy"] == {"Mode": "STRICT"}


def test_disabled_quicksight_leaves_the_stack_out(services_off: tuple[App, Platform]) -> None:
    app, platform = services_off
    assert platform.quicksight is None
    assert STACK not in [child.node.id for child in app.node.children]
