"""Idle cost from the templates: dev stays at or under 10 USD a month, and each priced kind of
resource is read from what the template really holds."""

from __future__ import annotations

import pytest

from scripts.cost import idle_cost, prices, render_text
from scripts.templates import read_templates
from tests.conftest import Synthesized

DEV_IDLE_BUDGET_USD = 10.0


def test_dev_idles_at_or_under_ten_dollars_a_month(dev: Synthesized) -> None:
    estimate = idle_cost(read_templates(dev.outdir))
    assert estimate.total <= DEV_IDLE_BUDGET_USD, "\n" + render_text(estimate)


def _by_type(env: Synthesized, resource_type: str) -> list[tuple[str, float]]:
    estimate = idle_cost(read_templates(env.outdir))
    return [(line.quantity, line.usd) for line in estimate.lines if line.resource_type == resource_type]


def test_every_kms_key_costs_a_dollar(env: Synthesized) -> None:
    keys = sum(len(env.resources(stack.id, "AWS::KMS::Key")) for stack in env.assembly.stacks)
    assert _by_type(env, "AWS::KMS::Key") == [("1 key", 1.0)] * keys


def test_interface_endpoints_cost_per_availability_zone(prod: Synthesized, dev: Synthesized) -> None:
    endpoints = _by_type(prod, "AWS::EC2::VPCEndpoint")
    zones = prod.settings.network.max_azs
    assert len(endpoints) == 12  # the gateway endpoint for S3 is free
    hourly, hours = prices()["interface_endpoint_az_hour"], prices()["hours_per_month"]
    assert set(endpoints) == {(f"{zones} AZ", round(zones * hourly * hours, 2))}
    assert _by_type(dev, "AWS::EC2::VPCEndpoint") == []


def test_instance_endpoints_cost_and_serverless_does_not(prod: Synthesized, dev: Synthesized) -> None:
    instances = prod.settings.sagemaker.endpoint.instances
    assert instances is not None
    count = instances.min_instances
    assert _by_type(prod, "AWS::SageMaker::EndpointConfig") == [
        (
            f"{count} x ml.m5.large",
            round(count * prices()["sagemaker_hosting_hour"]["ml.m5.large"] * prices()["hours_per_month"], 2),
        )
    ]
    assert _by_type(dev, "AWS::SageMaker::EndpointConfig") == []


def test_the_serverless_application_idles_free_and_states_its_most_expensive_run_hour(
    env: Synthesized,
) -> None:
    ((quantity, usd),) = _by_type(env, "AWS::EMRServerless::Application")
    limits, table = env.settings.emr.serverless, prices()
    hour = (
        limits.max_vcpu * table["emr_serverless_arm_vcpu_hour"]
        + limits.max_memory_gb * table["emr_serverless_arm_gb_hour"]
        + limits.max_disk_gb * table["emr_serverless_storage_gb_hour"]
    )
    assert usd == 0.0 and quantity == f"idle; a run-hour at its maximum capacity <= {hour:.2f} USD"


def test_the_long_running_cluster_is_priced_at_its_fleet_targets(prod: Synthesized) -> None:
    ((quantity, usd),) = _by_type(prod, "AWS::EMR::Cluster")
    assert quantity.endswith("x 730 h") and usd > 400


def test_alarms_cost_per_metric_and_an_unknown_instance_type_names_the_table(dev: Synthesized) -> None:
    templates = read_templates(dev.outdir)  # read afresh: free to change
    resources = templates["dsp-dev-video"]["Resources"]
    metric = {"Id": "m", "MetricStat": {}}
    resources["MathAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [metric, metric]}}
    (line,) = [line for line in idle_cost(templates).lines if line.logical_id == "MathAlarm"]
    assert (line.quantity, line.usd) == ("2 metric", 2 * prices()["cloudwatch_alarm_metric_month"])
    variant = {"InstanceType": "ml.p5.48xlarge", "InitialInstanceCount": 1}
    resources["Big"] = {
        "Type": "AWS::SageMaker::EndpointConfig",
        "Properties": {"ProductionVariants": [variant]},
    }
    with pytest.raises(
        SystemExit, match=r"no sagemaker_hosting_hour price for ml.p5.48xlarge in prices.yaml"
    ):
        idle_cost(templates)
