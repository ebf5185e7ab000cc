"""A monthly AWS Budgets cost budget over the platform's cost-allocation tags."""

from collections.abc import Mapping, Sequence

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_sns as sns
from constructs import Construct

METRIC = "UnblendedCost"
"""What the budget adds up: costs as billed, the measure the legacy ``CostTypes`` defaulted to. A
``FilterExpression`` needs ``Metrics`` and takes no ``CostTypes`` (Budgets API, CreateBudget)."""
HIDDEN_CHARGES = ("Credit", "Refund")
"""Charge types (the ``RECORD_TYPE`` dimension) the budget leaves out."""


class PlatformBudget(Construct):
    """A monthly cost budget ``budget_name`` of ``monthly_usd`` over the costs carrying every tag
    in ``tags`` (tag key -> value; the keys must be activated as cost-allocation tags in the
    Billing console, or the budget sees nothing). It measures :data:`METRIC` and leaves credits and
    refunds out (charge types :data:`HIDDEN_CHARGES`), so they never hide spend. Each percentage
    in ``actual_percent`` (spent so far) and ``forecast_percent`` (forecast for the month) notifies
    ``topic``, whose policies must let AWS Budgets publish.
    Exposes ``budget``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        budget_name: str,
        monthly_usd: float,
        tags: Mapping[str, str],
        actual_percent: Sequence[int],
        forecast_percent: Sequence[int],
        topic: sns.ITopic,
    ) -> None:
        """
        :param budget_name: unique in the account (budgets are global).
        :param monthly_usd: the monthly amount, in US dollars.
        :param tags: cost-allocation tag key -> value; costs must carry all of them.
        :param actual_percent: notify when actual spend passes these percentages of the amount.
        :param forecast_percent: notify when the month's forecast passes these.
        :param topic: the platform alarm topic.
        """
        super().__init__(scope, construct_id)
        Budget = budgets.CfnBudget
        by_tag = [
            Budget.ExpressionProperty(
                tags=Budget.TagValuesProperty(key=key, values=[value], match_options=["EQUALS"])
            )
            for key, value in sorted(tags.items())
        ]
        spend = Budget.ExpressionProperty(
            not_=Budget.ExpressionProperty(
                dimensions=Budget.ExpressionDimensionValuesProperty(
                    key="RECORD_TYPE", values=list(HIDDEN_CHARGES), match_options=["EQUALS"]
                )
            )
        )
        notifications = [
            Budget.NotificationWithSubscribersProperty(
                notification=Budget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=[Budget.SubscriberProperty(subscription_type="SNS", address=topic.topic_arn)],
            )
            for kind, percentages in (("ACTUAL", actual_percent), ("FORECASTED", forecast_percent))
            for percent in percentages
        ]
        self.budget = Budget(
            self,
            "Budget",
            budget=Budget.BudgetDataProperty(
                budget_name=budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=Budget.SpendProperty(amount=monthly_usd, unit="USD"),
                filter_expression=Budget.ExpressionProperty(and_=[*by_tag, spend]),
                metrics=[METRIC],
            ),
            notifications_with_subscribers=notifications,
        )
