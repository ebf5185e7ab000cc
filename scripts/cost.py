"""Idle monthly cost of an environment, read from its synthesized templates.

Every resource that costs money while nothing runs (KMS keys, interface endpoints per AZ, NAT
gateways, a long-running EMR cluster, endpoint instances, alarms, dashboards, custom metrics, log
ingestion; SPICE datasets at 0 within the included capacity) is priced from ``scripts/prices.yaml``,
one dated table; everything else in the templates is billed per use only (Glue and SageMaker runs,
Kinesis Video ingestion, S3 storage) and is counted, not priced. QuickSight users are billed by the
account's subscription, outside the templates.

    python -m scripts.cost cdk.out          # after `make synth ENV=...`: per resource and the total
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from scripts.templates import Templates, read_templates, resources

PRICES = Path(__file__).with_name("prices.yaml")


@dataclass(frozen=True)
class Line:
    """One priced resource: where it is, how much of it, what it costs a month."""

    stack: str
    logical_id: str
    resource_type: str
    quantity: str
    usd: float


@cache
def prices() -> dict[str, Any]:
    """The price table."""
    table: dict[str, Any] = yaml.safe_load(PRICES.read_text())
    return table


def _hourly(table: str, instance_type: str) -> float:
    """The hourly price of ``instance_type`` in one of the table's per-instance sections."""
    try:
        return float(prices()[table][instance_type])
    except KeyError:
        raise SystemExit(f"cost: no {table} price for {instance_type} in {PRICES.name}: add it") from None


Pricer = Callable[[dict[str, Any], dict[str, Any]], tuple[str, float] | None]
"""(resource properties, context) -> (quantity, USD a month), or None when it costs nothing idle."""


def _key(_: dict[str, Any], __: dict[str, Any]) -> tuple[str, float]:
    return "1 key", prices()["kms_key_month"]


def _endpoint(properties: dict[str, Any], _: dict[str, Any]) -> tuple[str, float] | None:
    if properties.get("VpcEndpointType") != "Interface":
        return None  # gateway endpoints are free
    zones = len(properties["SubnetIds"])
    return f"{zones} AZ", zones * prices()["interface_endpoint_az_hour"] * prices()["hours_per_month"]


def _nat(_: dict[str, Any], __: dict[str, Any]) -> tuple[str, float]:
    return "1 gateway", prices()["nat_gateway_hour"] * prices()["hours_per_month"]


def _alarm(properties: dict[str, Any], _: dict[str, Any]) -> tuple[str, float]:
    metrics = sum("MetricStat" in m for m in properties["Metrics"]) if "Metrics" in properties else 1
    return f"{metrics} metric", metrics * prices()["cloudwatch_alarm_metric_month"]


def _dashboard(_: dict[str, Any], __: dict[str, Any]) -> tuple[str, float]:
    return "1 dashboard", prices()["cloudwatch_dashboard_month"]


def _log_group(properties: dict[str, Any], context: dict[str, Any]) -> tuple[str, float]:
    assumed = prices()["assumptions"]
    flow_log = context["logical_id"] in context["flow_log_groups"]
    gb = assumed["flow_log_idle_gb_month" if flow_log else "log_group_idle_gb_month"]
    return f"{gb} GB", gb * (prices()["log_ingestion_gb"] + prices()["log_storage_gb_month"])


def _stream(_: dict[str, Any], __: dict[str, Any]) -> tuple[str, float]:
    """A stream bills only what it ingests, stores and serves; the sampler's metrics for it do."""
    metrics = prices()["assumptions"]["sampler_metrics_per_stream"]
    return f"{metrics} sampler metrics", metrics * prices()["custom_metric_month"]


def _dataset(_: dict[str, Any], __: dict[str, Any]) -> tuple[str, float]:
    """SPICE data within the capacity the subscription includes (users are billed outside templates)."""
    return "SPICE, included capacity", 0.0


def _endpoint_config(properties: dict[str, Any], _: dict[str, Any]) -> tuple[str, float] | None:
    instances = [v for v in properties["ProductionVariants"] if "InstanceType" in v]
    if not instances:
        return None  # serverless inference: nothing between requests
    count = sum(v["InitialInstanceCount"] for v in instances)
    hourly = sum(
        v["InitialInstanceCount"] * _hourly("sagemaker_hosting_hour", v["InstanceType"]) for v in instances
    )
    return f"{count} x {instances[0]['InstanceType']}", hourly * prices()["hours_per_month"]


def _studio_domain(_: dict[str, Any], __: dict[str, Any]) -> tuple[str, float]:
    """The domain is free; its home EFS bills per GB the users keep there."""
    gigabytes = prices()["assumptions"]["studio_home_gb"]
    return f"{gigabytes} GB of home EFS", gigabytes * prices()["efs_standard_gb_month"]


def _space(properties: dict[str, Any], _: dict[str, Any]) -> tuple[str, float]:
    """A private space keeps its volume while it exists; its app bills per hour only while it runs
    (it stops after ``sagemaker.studio.idle_minutes`` idle, so never at idle)."""
    storage = properties["SpaceSettings"]["SpaceStorageSettings"]["EbsStorageSettings"]
    gigabytes = storage["EbsVolumeSizeInGb"]
    return f"{gigabytes} GB volume; apps stop when idle", gigabytes * prices()[
        "sagemaker_ml_storage_gb_month"
    ]


def _cluster(properties: dict[str, Any], _: dict[str, Any]) -> tuple[str, float]:
    """Primary, core and task capacity at the template's targets (spot at the table's share), and
    their EBS volumes, for the assumed hours."""
    hourly, disks, nodes = 0.0, 0.0, 0
    for instance_type, on_demand, spot, gigabytes in _cluster_nodes(properties["Instances"]):
        price = _hourly("ec2_hour", instance_type) + _hourly("emr_fee_hour", instance_type)
        hourly += price * (on_demand + spot * prices()["spot_share_of_on_demand"])
        disks += gigabytes * (on_demand + spot)
        nodes += on_demand + spot
    hours = prices()["assumptions"]["emr_cluster_hours_per_month"]
    return f"{nodes} nodes x {hours} h", hourly * hours + disks * prices()["ebs_gp3_gb_month"]


def _serverless_application(properties: dict[str, Any], _: dict[str, Any]) -> tuple[str, float]:
    """Nothing at idle (no pre-initialized capacity); the quantity states what an hour of a job
    holding the application's whole maximum capacity costs, the most one run-hour can."""
    assert "InitialCapacity" not in properties, (
        "pre-initialized workers bill while the application is started"
    )
    limit = {key: float(str(value).split()[0]) for key, value in properties["MaximumCapacity"].items()}
    table = prices()
    hour = (
        limit["Cpu"] * table["emr_serverless_arm_vcpu_hour"]
        + limit["Memory"] * table["emr_serverless_arm_gb_hour"]
        + limit.get("Disk", 0.0) * table["emr_serverless_storage_gb_hour"]
    )
    return f"idle; a run-hour at its maximum capacity <= {hour:.2f} USD", 0.0


def _cluster_nodes(instances: dict[str, Any]) -> Iterator[tuple[str, int, int, int]]:
    """(instance type, on-demand nodes, spot nodes, EBS GB a node) of every fleet or group."""
    fleets = [instances.get("MasterInstanceFleet"), instances.get("CoreInstanceFleet")]
    for fleet in [*fleets, *instances.get("TaskInstanceFleets", [])]:
        if fleet:
            config = fleet["InstanceTypeConfigs"][0]
            weight = config.get("WeightedCapacity", 1)
            yield (
                config["InstanceType"],
                fleet.get("TargetOnDemandCapacity", 0) // weight,
                fleet.get("TargetSpotCapacity", 0) // weight,
                _ebs_gigabytes(config),
            )
    groups = [instances.get("MasterInstanceGroup"), instances.get("CoreInstanceGroup")]
    for group in [g for g in groups if g]:
        yield group["InstanceType"], group["InstanceCount"], 0, _ebs_gigabytes(group)


def _ebs_gigabytes(config: dict[str, Any]) -> int:
    devices = config.get("EbsConfiguration", {}).get("EbsBlockDeviceConfigs", [])
    return sum(d["VolumeSpecification"]["SizeInGB"] * d.get("VolumesPerInstance", 1) for d in devices)


PRICERS: dict[str, Pricer] = {
    "AWS::KMS::Key": _key,
    "AWS::EC2::VPCEndpoint": _endpoint,
    "AWS::EC2::NatGateway": _nat,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::Dashboard": _dashboard,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::KinesisVideo::Stream": _stream,
    "AWS::QuickSight::DataSet": _dataset,
    "AWS::SageMaker::EndpointConfig": _endpoint_config,
    "AWS::EMR::Cluster": _cluster,
    "AWS::EMRServerless::Application": _serverless_application,
    "AWS::SageMaker::Domain": _studio_domain,
    "AWS::SageMaker::Space": _space,
}
"""The resource types that can cost money at idle, and how."""


@dataclass(frozen=True)
class Estimate:
    """The priced lines and how many resources are billed per use only."""

    lines: list[Line]
    per_use_only: int

    @property
    def total(self) -> float:
        """USD a month of every priced line."""
        return sum(line.usd for line in self.lines)


def idle_cost(templates: Templates) -> Estimate:
    """The idle monthly cost of every resource in ``templates``."""
    flow_log_groups = {
        r["Properties"]["LogGroupName"]["Ref"]
        for _, _, r in resources(templates)
        if r["Type"] == "AWS::EC2::FlowLog" and "Ref" in r["Properties"].get("LogGroupName", {})
    }
    lines, per_use = [], 0
    for stack, logical_id, resource in resources(templates):
        pricer = PRICERS.get(resource["Type"])
        context = {"logical_id": logical_id, "flow_log_groups": flow_log_groups}
        priced = pricer(resource.get("Properties", {}), context) if pricer else None
        if priced is None:
            per_use += 1
            continue
        quantity, usd = priced
        lines.append(Line(stack, logical_id, resource["Type"], quantity, round(usd, 2)))
    return Estimate(lines, per_use)


def header() -> str:
    """Where the prices come from."""
    table = prices()
    return f"list prices of {table['region']} as of {table['as_of']} (scripts/prices.yaml)"


def assumptions() -> str:
    """The table's assumptions, on one line."""
    return ", ".join(f"{key} = {value}" for key, value in prices()["assumptions"].items())


def render_text(estimate: Estimate) -> str:
    """The estimate per resource, for a terminal."""
    rows = [
        (line.stack, line.logical_id, line.resource_type, line.quantity, f"{line.usd:.2f}")
        for line in estimate.lines
    ]
    table = [("stack", "resource", "type", "quantity", "USD/month"), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    out = [f"Idle monthly cost, {header()}"]
    for row in table:
        out.append(
            "  ".join(
                cell.rjust(w) if i == 4 else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    out.append(f"total: {estimate.total:.2f} USD a month")
    out.append(f"billed per use only (not in the total): {estimate.per_use_only} resources")
    out.append(f"assumptions: {assumptions()}")
    return "\n".join(out)


def render_markdown(environment: str, estimate: Estimate) -> str:
    """The estimate grouped by stack and type, as a Markdown table for docs/cost.md."""
    grouped: dict[tuple[str, str], tuple[int, float]] = {}
    for line in estimate.lines:
        count, usd = grouped.get((line.stack, line.resource_type), (0, 0.0))
        grouped[line.stack, line.resource_type] = (count + 1, usd + line.usd)
    rows = [
        f"| `{stack}` | {rtype} | {count} | {usd:.2f} |"
        for (stack, rtype), (count, usd) in sorted(grouped.items())
    ]
    return "\n".join(
        [
            f"### {environment}: {estimate.total:.2f} USD a month",
            "",
            "| stack | resource type | resources | USD/month |",
            "|---|---|---|---|",
            *rows,
            f"| **total** | | {len(estimate.lines)} | **{estimate.total:.2f}** |",
            "",
            f"{estimate.per_use_only} more resources are billed per use only.",
        ]
    )


def main(assembly: Path) -> int:
    """Print the idle cost of the assembly at ``assembly``."""
    print(render_text(idle_cost(read_templates(assembly))))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))
