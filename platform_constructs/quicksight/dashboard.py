"""The sales dashboard, defined in code: daily revenue by store, the top products, and (with the
forecast datasets) the forecast against actual revenue per store and its WAPE over time."""

from collections.abc import Mapping
from typing import Any

from aws_cdk import Aws
from aws_cdk import aws_quicksight as quicksight
from constructs import Construct

from platform_constructs.quicksight.data import SpiceDataset
from platform_constructs.quicksight.groups import QuickSightGroups

TOP_PRODUCTS = 10


def _column(dataset: str, name: str) -> dict[str, str]:
    return {"DataSetIdentifier": dataset, "ColumnName": name}


def _title(text: str) -> dict[str, Any]:
    return {"Visibility": "VISIBLE", "FormatText": {"PlainText": text}}


def _sum(field_id: str, dataset: str, column: str) -> dict[str, Any]:
    return {
        "NumericalMeasureField": {
            "FieldId": field_id,
            "Column": _column(dataset, column),
            "AggregationFunction": {"SimpleNumericalAggregation": "SUM"},
        }
    }


def _category(field_id: str, dataset: str, column: str) -> dict[str, Any]:
    return {"CategoricalDimensionField": {"FieldId": field_id, "Column": _column(dataset, column)}}


def _day(field_id: str, dataset: str, column: str) -> dict[str, Any]:
    return {
        "DateDimensionField": {
            "FieldId": field_id,
            "Column": _column(dataset, column),
            "DateGranularity": "DAY",
        }
    }


def daily_revenue(dataset: str) -> dict[str, Any]:
    """A line chart: revenue per day, one line per store."""
    return {
        "LineChartVisual": {
            "VisualId": "daily-revenue-by-store",
            "Title": _title("Daily revenue by store (in the store's currency)"),
            "ChartConfiguration": {
                "FieldWells": {
                    "LineChartAggregatedFieldWells": {
                        "Category": [_day("day", dataset, "sale_day")],
                        "Values": [_sum("revenue", dataset, "revenue")],
                        "Colors": [_category("store", dataset, "store_id")],
                    }
                }
            },
        }
    }


def top_products(dataset: str) -> dict[str, Any]:
    """A horizontal bar chart: the products with the most units sold, highest first (units, not
    revenue: stores sell in different currencies)."""
    return {
        "BarChartVisual": {
            "VisualId": "top-products",
            "Title": _title(f"Top {TOP_PRODUCTS} products by units sold"),
            "ChartConfiguration": {
                "FieldWells": {
                    "BarChartAggregatedFieldWells": {
                        "Category": [_category("product", dataset, "product_id")],
                        "Values": [_sum("product-units", dataset, "quantity")],
                    }
                },
                "SortConfiguration": {
                    "CategorySort": [{"FieldSort": {"FieldId": "product-units", "Direction": "DESC"}}],
                    "CategoryItemsLimit": {"ItemsLimit": TOP_PRODUCTS, "OtherCategories": "EXCLUDE"},
                },
                "Orientation": "HORIZONTAL",
            },
        }
    }


def forecast_vs_actual(dataset: str) -> dict[str, Any]:
    """Line charts, one per store (small multiples): the forecast revenue of each day next to what
    the store sold (``forecasts_vs_actuals``: the newest model version's forecast per day)."""
    return {
        "LineChartVisual": {
            "VisualId": "forecast-vs-actual-by-store",
            "Title": _title("Forecast against actual revenue, per store (in the store's currency)"),
            "ChartConfiguration": {
                "FieldWells": {
                    "LineChartAggregatedFieldWells": {
                        "Category": [_day("forecast-day", dataset, "forecast_day")],
                        "Values": [
                            _sum("forecast", dataset, "forecast"),
                            _sum("actual", dataset, "actual"),
                        ],
                        "SmallMultiples": [_category("forecast-store", dataset, "store_id")],
                    }
                }
            },
        }
    }


def wape_over_time(dataset: str) -> dict[str, Any]:
    """A line chart: the WAPE of each forecast day, one line per model version
    (``forecast_accuracy`` holds one row per day and version, so the average is that row's)."""
    return {
        "LineChartVisual": {
            "VisualId": "wape-over-time",
            "Title": _title("Forecast error (WAPE) per day and model version; lower is better"),
            "ChartConfiguration": {
                "FieldWells": {
                    "LineChartAggregatedFieldWells": {
                        "Category": [_day("accuracy-day", dataset, "forecast_day")],
                        "Values": [
                            {
                                "NumericalMeasureField": {
                                    "FieldId": "wape",
                                    "Column": _column(dataset, "wape"),
                                    "AggregationFunction": {"SimpleNumericalAggregation": "AVERAGE"},
                                }
                            }
                        ],
                        "Colors": [
                            {
                                "NumericalDimensionField": {
                                    "FieldId": "model-version",
                                    "Column": _column(dataset, "model_version"),
                                }
                            }
                        ],
                    }
                }
            },
        }
    }


def grid(visuals: list[dict[str, Any]], rows: int = 12) -> dict[str, Any]:
    """A sheet layout: the visuals one below the other, each the sheet's full width."""
    elements = [
        {
            "ElementId": next(iter(visual.values()))["VisualId"],
            "ElementType": "VISUAL",
            "ColumnIndex": 0,
            "ColumnSpan": 36,
            "RowIndex": index * rows,
            "RowSpan": rows,
        }
        for index, visual in enumerate(visuals)
    ]
    return {"Configuration": {"GridLayout": {"Elements": elements}}}


def referenced_columns(definition: Any) -> set[tuple[str, str]]:
    """Every (dataset identifier, column) a definition's visuals use."""
    if isinstance(definition, dict):
        if set(definition) == {"DataSetIdentifier", "ColumnName"}:
            return {(definition["DataSetIdentifier"], definition["ColumnName"])}
        return set().union(*(referenced_columns(value) for value in definition.values()))
    if isinstance(definition, list):
        return set().union(*(referenced_columns(value) for value in definition))
    return set()


class SalesDashboard(Construct):
    """A published dashboard ``<dashboard_id>`` defined in code (no console-made analysis to keep in
    sync) over ``datasets`` (identifier -> dataset): daily revenue by store from ``daily`` and the
    top products by units from ``sales``, one below the other; with ``forecasts`` and ``accuracy``,
    a second sheet of the forecast against actual revenue per store and the WAPE per day and model
    version. Every column a visual uses is
    checked against its dataset at synth. Owners may change and share it, viewers may view it;
    nobody exports its data as CSV unless ``csv_export``. Exposes ``dashboard`` and ``definition``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_id: str,
        name: str,
        datasets: Mapping[str, SpiceDataset],
        groups: QuickSightGroups,
        csv_export: bool = False,
    ) -> None:
        """
        :param dashboard_id: the dashboard's ID, unique in the account.
        :param name: the name users see.
        :param datasets: ``daily`` (store_daily_features) and ``sales`` (curated transactions);
            optionally ``forecasts`` (forecasts_vs_actuals) and ``accuracy`` (forecast_accuracy).
        :param groups: who may change it and who may view it.
        :param csv_export: whether readers may export a visual's data as CSV; default off.
        """
        super().__init__(scope, construct_id)
        sheets = {"Sales": [daily_revenue("daily"), top_products("sales")]}
        if "forecasts" in datasets:
            sheets["Forecasts"] = [forecast_vs_actual("forecasts"), wape_over_time("accuracy")]
        self.definition: dict[str, Any] = {
            "DataSetIdentifierDeclarations": [
                {"Identifier": identifier, "DataSetArn": dataset.arn}
                for identifier, dataset in datasets.items()
            ],
            "Sheets": [
                {"SheetId": name.lower(), "Name": name, "Visuals": visuals, "Layouts": [grid(visuals)]}
                for name, visuals in sheets.items()
            ],
        }
        missing = sorted(
            f"{identifier}.{column}"
            for identifier, column in referenced_columns(self.definition)
            if column not in datasets[identifier].columns
        )
        if missing:
            raise ValueError(f"the dashboard uses columns its datasets lack: {', '.join(missing)}")
        self.dashboard = quicksight.CfnDashboard(
            self,
            "Resource",
            aws_account_id=Aws.ACCOUNT_ID,
            dashboard_id=dashboard_id,
            name=name,
            validation_strategy=quicksight.CfnDashboard.ValidationStrategyProperty(mode="STRICT"),
            dashboard_publish_options=quicksight.CfnDashboard.DashboardPublishOptionsProperty(
                export_to_csv_option=quicksight.CfnDashboard.ExportToCSVOptionProperty(
                    availability_status="ENABLED" if csv_export else "DISABLED"
                )
            ),
        )
        self.dashboard.add_property_override("Definition", self.definition)
        groups.grant(self.dashboard, "dashboard")
        for dataset in datasets.values():
            self.dashboard.node.add_dependency(dataset.data_set)
