"""Configuration: the shipped environments load; every bad input gives one clear line, no traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from config import sagemaker_image
from config.regions import SUPPORTED_REGIONS
from config.settings import CONFIG_DIR, ConfigError, LogRetentionDays, available_environments, load_settings
from platform_constructs.log_retention import RETENTION_BY_DAYS
from tests.conftest import ROOT


def test_shipped_environments_load() -> None:
    assert available_environments() == ["dev", "prod"]
    dev, prod = load_settings("dev"), load_settings("prod")
    assert (dev.name_prefix, dev.destroy_on_delete, dev.termination_protection) == ("dsp-dev", True, False)
    assert (prod.name_prefix, prod.destroy_on_delete, prod.termination_protection) == (
        "dsp-prod",
        False,
        True,
    )
    assert (
        dev.account is None and prod.account is None
    )  # environment-agnostic synth, no account IDs in the repo


def test_log_retention_choices_match_cloudwatch_table() -> None:
    assert set(get_args(LogRetentionDays)) == set(RETENTION_BY_DAYS)


def _write(directory: Path, document: Any, environment: str = "dev") -> None:
    text = document if isinstance(document, str) else yaml.safe_dump(document)
    (directory / f"{environment}.yaml").write_text(text)


def _set(document: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        document = document[part]
    if value is _DELETE:
        del document[last]
    else:
        document[last] = value


class _Delete:
    """Marks a key to remove from the document; its repr keeps test IDs the same in every process."""

    def __repr__(self) -> str:
        return "<deleted>"


_DELETE = _Delete()

BAD_INPUTS = [
    (
        "sagemaker.studio.users",
        [{"name": "ana_b", "role": "lead"}],
        "sagemaker.studio.users.0.name: 'ana_b' is not allowed: user 'ana_b': SageMaker user profiles take "
        "letters, digits and inner hyphens, at most 63",
    ),
    (
        "sagemaker.studio.users",
        [{"name": "ana", "role": "lead"}, {"name": "ANA", "role": "data_scientist"}],
        "users: ana listed more than once (names are case-insensitive)",
    ),
    (
        "sagemaker.studio.users",
        [{"name": "ana", "role": "admin"}],
        "sagemaker.studio.users.0.role: 'admin' is not allowed: Input should be 'data_scientist' or 'lead'",
    ),
    (
        "sagemaker.studio.default_instance_type",
        "ml.p4d.24xlarge",
        "default_instance_type ml.p4d.24xlarge is not in allowed_instance_types",
    ),
    (
        "sagemaker.studio.idle_minutes",
        30,
        "sagemaker.studio.idle_minutes: 30 is not allowed: 30: SageMaker stops idle JupyterLab apps after "
        "60 to 525600 minutes",
    ),
    ("network.vpc_cidr", "169.254.0.0/16", "'169.254.0.0/16' is not allowed: must be an RFC 1918 IPv4 CIDR"),
    ("network.vpc_cidr", "10.0.0.1/24", "'10.0.0.1/24' is not allowed: must be an RFC 1918 IPv4 CIDR"),
    ("flavour", "vanilla", "dev.yaml: flavour: unknown key; allowed keys here: prefix, account, region,"),
    (
        "network.cidr",
        "10.0.0.0/16",
        "dev.yaml: network.cidr: unknown key; allowed keys here: vpc_cidr, max_azs,",
    ),
    ("prefix", _DELETE, "dev.yaml: prefix: required key is missing"),
    (
        "network.vpc_cidr",
        "10.0.0.0/33",
        "network.vpc_cidr: '10.0.0.0/33' is not allowed: must be an RFC 1918 IPv4 CIDR",
    ),
    (
        "network.vpc_cidr",
        "8.8.0.0/16",
        "network.vpc_cidr: '8.8.0.0/16' is not allowed: must be an RFC 1918 IPv4 CIDR",
    ),
    (
        "network.vpc_cidr",
        "10.0.0.0/8",
        "network.vpc_cidr: '10.0.0.0/8' is not allowed: must be an RFC 1918 IPv4 CIDR",
    ),
    ("tags.owner", "team|ops", "tags.owner: 'team|ops' is not allowed: must be 1-256 characters"),
    ("tags.cost_center", "", "tags.cost_center: '' is not allowed: must be 1-256 characters"),
    ("network.max_azs", "two", "network.max_azs: 'two' is not allowed: Input should be a valid integer"),
    ("network.max_azs", 3, "(top level): network.max_azs 3 needs account and region"),
    ("network.max_azs", 4, "network.max_azs: 4 is not allowed: Input should be less than or equal to 3"),
    (
        "network.interface_endpoints",
        "yes",
        "network.interface_endpoints: 'yes' is not allowed: Input should be a valid boolean",
    ),
    ("prefix", "My_Platform", "prefix: 'My_Platform' is not allowed: String should match pattern"),
    (
        "removal_policy",
        "snapshot",
        "removal_policy: 'snapshot' is not allowed: Input should be 'retain' or 'destroy'",
    ),
    ("network.nat_gateways", 3, "network: nat_gateways (3) must not exceed max_azs (2)"),
    (
        "lake.lifecycle.archive_after_days",
        40,
        "lake.lifecycle: archive_after_days must be at least infrequent_access_after_days + 30",
    ),
    (
        "lake.lifecycle.infrequent_access_after_days",
        10,
        "infrequent_access_after_days: 10 is not allowed: Input should be greater than or equal to 30",
    ),
    (
        "network.flow_log_retention_days",
        42,
        "network.flow_log_retention_days: 42 is not allowed: Input should be 1, 3, 5, 7",
    ),
    (
        "lake.athena_bytes_scanned_cutoff_mb",
        0,
        "lake.athena_bytes_scanned_cutoff_mb: 0 is not allowed: Input should be greater than or equal to 10",
    ),
    (
        "security.key_admins",
        ["arn:aws:iam::123456789012:root"],
        "'arn:aws:iam::123456789012:root' is not an IAM role ARN",
    ),
    (
        "security.key_admins",
        ["arn:aws:iam::123456789012:user/alice"],
        "'arn:aws:iam::123456789012:user/alice' is not an IAM role ARN",
    ),
    (
        "security.key_admins",
        ["arn:aws-cn:iam::123456789012:role/keys"],
        "'arn:aws-cn:iam::123456789012:role/keys' is not an IAM role ARN",
    ),
    (
        "security.key_admins",
        ["arn:aws:iam::123456789012:role/keys"] * 2,
        "security.key_admins: ['arn:aws:iam::123456789012:role/keys', 'arn:aws:iam::123456789012:role/keys'] "
        "is not allowed: lists a role more than once",
    ),
    ("security", {}, "dev.yaml: security.key_admins: required key is missing"),
    (
        "lake.object_lock_days",
        30,
        "(top level): lake.object_lock_days with removal_policy 'destroy': locked versions cannot be deleted",
    ),
    (
        "lake.object_lock_days",
        0,
        "lake.object_lock_days: 0 is not allowed: Input should be greater than or equal to 1",
    ),
    ("account", "12345", "account: '12345' is not allowed: String should match pattern"),
    ("account", "123456789012", "dev.yaml: (top level): account and region must be set together"),
    (
        "termination_protection",
        True,
        "(top level): removal_policy 'destroy' contradicts termination_protection: true",
    ),
    ("emr.enabled", _DELETE, "dev.yaml: emr.enabled: required key is missing"),
    ("services", {"glue": True}, "dev.yaml: services: unknown key; allowed keys here: prefix,"),
    (
        "glue.worker_type",
        "Z.2X",
        "glue.worker_type: 'Z.2X' is not allowed: Input should be 'G.1X', 'G.2X', 'G.4X' or 'G.8X'",
    ),
    ("glue.max_workers", 1, "glue.max_workers: 1 is not allowed: Input should be greater than or equal to 2"),
    (
        "glue.max_workers",
        101,
        "glue.max_workers: 101 is not allowed: Input should be less than or equal to 100",
    ),
    (
        "glue.timeout_minutes",
        0,
        "glue.timeout_minutes: 0 is not allowed: Input should be greater than or equal to 1",
    ),
    (
        "glue.timeout_minutes",
        2881,
        "glue.timeout_minutes: 2881 is not allowed: Input should be less than or equal",
    ),
    (
        "glue.max_retries",
        -1,
        "glue.max_retries: -1 is not allowed: Input should be greater than or equal to 0",
    ),
    ("glue.max_retries", 11, "glue.max_retries: 11 is not allowed: Input should be less than or equal to 10"),
    (
        "glue.schedule",
        "rate(1 day)",
        "glue.schedule: 'rate(1 day)' is not allowed: Glue triggers take a cron",
    ),
    (
        "glue.schedule",
        "0 2 * * ? *",
        "glue.schedule: '0 2 * * ? *' is not allowed: must be cron() with 6 fields",
    ),
    ("glue.schedule", "cron(0 2 * * *)", "is not allowed: must be cron() with 6 fields"),
    ("glue.schedule", "cron(0 25 * * ? *)", "is not allowed: hours field '25' is not valid (allowed 0-23)"),
    (
        "glue.schedule",
        "cron(0 2 * * MON *)",
        "is not allowed: exactly one of day-of-month and day-of-week must be '?'",
    ),
    ("glue.schedule", "cron(0/1 * * * ? *)", "is not allowed: runs more often than every 5 minutes"),
    ("glue.schedule", "cron(0 2 ? * FUN *)", "is not allowed: day-of-week field 'FUN' is not valid"),
    (
        "glue.freshness_hours",
        0,
        "glue.freshness_hours: 0 is not allowed: Input should be greater than or equal",
    ),
    ("glue.log_retention_days", 10, "glue.log_retention_days: 10 is not allowed: Input should be 1, 3, 5, 7"),
    ("glue.enabled", "on", "glue.enabled: 'on' is not allowed: Input should be a valid boolean"),
    ("glue.workers", 2, "glue.workers: unknown key; allowed keys here: enabled, worker_type, max_workers,"),
    (
        "alarms.emails",
        ["ops@example"],
        "alarms.emails: ['ops@example'] is not allowed: 'ops@example' is not an e-mail",
    ),
    (
        "alarms.emails",
        ["a@example.com", "a@example.com"],
        "alarms.emails: ['a@example.com', 'a@example.com'] is not allowed: lists an address more than once",
    ),
    ("environment", "prod", "dev.yaml: environment: set by the file name, remove the key"),
    (
        "emr.release_label",
        "emr-6.15.0",
        "emr.release_label: 'emr-6.15.0' is not allowed: String should match",
    ),
    ("emr.release_label", "7.10.0", "emr.release_label: '7.10.0' is not allowed: String should match"),
    (
        "emr.feature_runs_on",
        "lambda",
        "emr.feature_runs_on: 'lambda' is not allowed: Input should be 'serverless' or 'transient_cluster'",
    ),
    ("emr.serverless.max_vcpu", 2, "emr.serverless.max_vcpu: 2 is not allowed: Input should be greater than"),
    (
        "emr.serverless.idle_timeout_minutes",
        0,
        "emr.serverless.idle_timeout_minutes: 0 is not allowed: Input should be greater than",
    ),
    ("emr.primary_instance_type", "m7g.huge", "emr.primary_instance_type: 'm7g.huge' is not allowed"),
    (
        "emr.core_instance_types",
        ["m5.xlarge", "xlarge"],
        "emr.core_instance_types.1: 'xlarge' is not allowed",
    ),
    (
        "emr.core_instance_types",
        [],
        "emr.core_instance_types: [] is not allowed: List should have at least 1",
    ),
    ("emr.task_spot_percent", 101, "emr.task_spot_percent: 101 is not allowed: Input should be less than or"),
    ("emr.task_spot_percent", -1, "emr.task_spot_percent: -1 is not allowed: Input should be greater than"),
    (
        "emr.task_instance_types",
        ["m7g.2xlarge", "m7g.2xlarge"],
        "dev.yaml: emr: task_instance_types: a spot fleet needs at least two distinct instance types",
    ),
    (
        "emr.step_concurrency",
        0,
        "emr.step_concurrency: 0 is not allowed: Input should be greater than or equal",
    ),
    (
        "emr.certificates_zip",
        "certs.zip",
        "emr.certificates_zip: 'certs.zip' is not allowed: String should match",
    ),
    (
        "emr.cluster.min_units",
        5,
        "dev.yaml: emr.cluster: max_units 4 must exceed min_units 5: the core fleet",
    ),
    ("emr.cluster.min_units", 4, "dev.yaml: emr.cluster: max_units 4 must exceed min_units 4"),
    ("emr.cluster.enabled", True, "(top level): emr.cluster.enabled needs network.interface_endpoints: true"),
    ("emr.step_timeout_minutes", 5, "emr.step_timeout_minutes: 5 is not allowed: Input should be greater"),
    (
        "emr.cluster.max_units",
        0,
        "emr.cluster.max_units: 0 is not allowed: Input should be greater than or equal",
    ),
    (
        "emr.cluster.idle_timeout_seconds",
        59,
        "emr.cluster.idle_timeout_seconds: 59 is not allowed: Input should be greater than or equal to 60",
    ),
    (
        "emr.cluster.idle_timeout_seconds",
        604_801,
        "idle_timeout_seconds: 604801 is not allowed: Input should be less than or equal to 604800",
    ),
    (
        "sagemaker.training.instance_type",
        "m5.large",
        "instance_type: 'm5.large' is not allowed: expected a SageMaker instance type ml.<family>.<size>",
    ),
    ("sagemaker.training.instance_type", "ml.m5.huge", "instance_type: 'ml.m5.huge' is not allowed"),
    ("sagemaker.training.instance_type", "ml.m5.1xlarge", "instance_type: 'ml.m5.1xlarge' is not allowed"),
    (
        "sagemaker.endpoint.serverless",
        _DELETE,
        "dev.yaml: sagemaker.endpoint: set exactly one of serverless and",
    ),
    ("sagemaker.training.max_wape", 0, "max_wape: 0 is not allowed: Input should be greater than 0"),
    (
        "sagemaker.training.max_wape",
        1.5,
        "max_wape: 1.5 is not allowed: Input should be less than or equal to 1",
    ),
    (
        "sagemaker.training.min_improvement",
        -0.1,
        "min_improvement: -0.1 is not allowed: Input should be greater than or equal to 0",
    ),
    (
        "sagemaker.training.min_improvement",
        1,
        "min_improvement: 1 is not allowed: Input should be less than 1",
    ),
    ("sagemaker.training.hyperparameters.validation_days", 3, "validation_days: 3 is not allowed"),
    ("sagemaker.training.max_runtime_minutes", 2000, "max_runtime_minutes: 2000 is not allowed"),
    (
        "sagemaker.approval",
        "auto",
        "sagemaker.approval: 'auto' is not allowed: Input should be 'automatic' or",
    ),
    (
        "sagemaker.endpoint.serverless.memory_mb",
        1500,
        "memory_mb: 1500 is not allowed: Input should be 1024,",
    ),
    ("sagemaker.endpoint.serverless.max_concurrency", 0, "max_concurrency: 0 is not allowed"),
    ("sagemaker.endpoint.serverless.max_concurrency", 201, "max_concurrency: 201 is not allowed"),
    (
        "sagemaker.endpoint.serverless.memroy",
        2048,
        "serverless.memroy: unknown key; allowed keys here: memory_mb,",
    ),
    (
        "sagemaker.endpoint.serverless",
        None,
        "dev.yaml: sagemaker.endpoint: set exactly one of serverless and",
    ),
    (
        "sagemaker.endpoint.instances",
        {
            "instance_type": "ml.m5.large",
            "min_instances": 1,
            "max_instances": 2,
            "invocations_per_instance": 100,
            "data_capture_percent": 10,
        },
        "dev.yaml: sagemaker.endpoint: set exactly one of serverless and instances",
    ),
    (
        "video.cameras",
        ["store 1"],
        "video.cameras: ['store 1'] is not allowed: camera 'store 1': Kinesis Video stream and IoT "
        "thing names take letters, digits, '_' and '-' only",
    ),
    ("video.cameras", ["door.1"], "camera 'door.1': Kinesis Video stream and IoT thing names take"),
    (
        "video.cameras",
        ["door", "till", "door"],
        "video.cameras: ['door', 'till', 'door'] is not allowed: lists door more than once",
    ),
    ("video.cameras", [], "video.cameras: [] is not allowed: List should have at least 1 item"),
    (
        "video.cameras",
        ["c" * 125],
        "dev.yaml: (top level): video.cameras: stream 'dsp-dev-"
        + "c" * 125
        + "' has 133 characters; Kinesis "
        "Video streams and IoT things allow 128: shorten the camera name or prefix",
    ),
    (
        "video.retention_hours",
        0,
        "video.retention_hours: 0 is not allowed: Input should be greater than or equal to 1",
    ),
    (
        "video.retention_hours",
        87601,
        "retention_hours: 87601 is not allowed: Input should be less than or equal to 87600",
    ),
    (
        "video.sampler.schedule",
        "every 15 minutes",
        "video.sampler.schedule: 'every 15 minutes' is not allowed: "
        "must be rate(<n> minute(s)|hour(s)|day(s))",
    ),
    (
        "video.sampler.schedule",
        "rate(1 minutes)",
        "rate() takes a singular unit for 1 and a plural one otherwise",
    ),
    ("video.sampler.schedule", "cron(0 25 * * ? *)", "hours field '25' is not valid (allowed 0-23)"),
    (
        "video.sampler.sampling_interval_ms",
        100,
        "sampling_interval_ms: 100 is not allowed: Input should be greater than or equal to 200",
    ),
    ("video.sampler.sampling_interval_ms", 60001, "sampling_interval_ms: 60001 is not allowed"),
    (
        "video.sampler.sampling_interval_ms",
        200,
        "dev.yaml: video: each sampler run would copy 4500 frames (1 cameras, 15 minutes, one per 200 ms); "
        "at most 3000 fit in one run",
    ),
    ("video.retention_hours", 0.1, "retention_hours: 0.1 is not allowed"),
    ("quicksight.log_retention_days", 17, "quicksight.log_retention_days: 17 is not allowed"),
    ("quicksight.log_retention_days", _DELETE, "quicksight.log_retention_days: required key is missing"),
    (
        "video.sampler.reserved_concurrency",
        0,
        "video.sampler.reserved_concurrency: 0 is not allowed: Input should be greater than or equal to 1",
    ),
    ("video.sampler.reserved_concurrency", "one", "video.sampler.reserved_concurrency: 'one' is not allowed"),
    (
        "video.sampler.window_minutes",
        10,
        "dev.yaml: video.sampler: window_minutes 10 is shorter than the schedule's 15 minutes",
    ),
    (
        "video.viewer.principals",
        ["arn:aws:iam::123456789012:root"],
        "video.viewer.principals: ['arn:aws:iam::123456789012:root'] is not allowed: "
        "'arn:aws:iam::123456789012:root' is not an IAM role ARN",
    ),
    ("video.viewer.principals", ["arn:aws:iam::123456789012:user/ana"], "is not an IAM role ARN"),
    ("video.viewer.principals", ["arn:aws-cn:iam::123456789012:role/a"], "is not an IAM role ARN"),
    ("video.viewer.principals", ["arn:aws:s3:::bucket"], "'arn:aws:s3:::bucket' is not an IAM role ARN"),
    (
        "video.viewer.principals",
        ["arn:aws:iam::123456789012:role/a"],
        "video.viewer.principals: 'arn:aws:iam::123456789012:role/a' is in an account unknown at synth: "
        "set video.viewer.external_id or organization_id",
    ),
    ("video.viewer.organization_id", "r-abc", "video.viewer.organization_id: 'r-abc' is not allowed"),
    ("video.viewer.external_id", "x", "video.viewer.external_id: 'x' is not allowed"),
    (
        "emr.certificate_validity_days",
        3650,
        "emr.certificate_validity_days: 3650 is not allowed: Input should be less than or equal to 1825",
    ),
    (
        "emr.certificate_rotation",
        0,
        "emr.certificate_rotation: 0 is not allowed: Input should be greater than or equal to 1",
    ),
    ("video.credential_duration_seconds", 60, "credential_duration_seconds: 60 is not allowed"),
    ("video.no_fragments_alarm_minutes", 1, "no_fragments_alarm_minutes: 1 is not allowed"),
    (
        "quicksight.author_groups",
        ["bi/authors"],
        "quicksight.author_groups: ['bi/authors'] is not allowed: group 'bi/authors': QuickSight group names "
        "have 1 to 128 characters from U+0020 to U+00FF and no '/'",
    ),
    ("quicksight.viewer_groups", ["分析"], "group '分析': QuickSight group names have 1 to 128 characters"),
    ("quicksight.viewer_groups", [""], "group '': QuickSight group names have 1 to 128 characters"),
    (
        "quicksight.viewer_groups",
        ["dsp-dev-bi-authors"],
        "dev.yaml: (top level): quicksight: groups listed more than once: dsp-dev-bi-authors",
    ),
    (
        "quicksight.author_groups",
        [],
        "dev.yaml: quicksight: QuickSight on needs at least one author group",
    ),
    ("quicksight.refresh.interval", "MINUTE15", "quicksight.refresh.interval: 'MINUTE15' is not allowed"),
    ("quicksight.refresh.time_of_day", "25:00", "quicksight.refresh.time_of_day: '25:00' is not allowed"),
    ("quicksight.refresh.time_of_day", "4am", "quicksight.refresh.time_of_day: '4am' is not allowed"),
    (
        "quicksight.refresh.interval",
        "WEEKLY",
        "quicksight.refresh: a WEEKLY refresh needs day: one of MONDAY",
    ),
    ("quicksight.refresh.day", "MONDAY", "quicksight.refresh: a DAILY refresh takes no day"),
    ("quicksight.identity_region", "eu-west", "quicksight.identity_region: 'eu-west' is not allowed"),
    ("quicksight.identity_region", "Europe", "quicksight.identity_region: 'Europe' is not allowed"),
    ("pipeline.schedule", "daily", "pipeline.schedule: 'daily' is not allowed: must be rate("),
    ("pipeline.utc_offset", "+1", "pipeline.utc_offset: '+1' is not allowed"),
    ("pipeline.utc_offset", "+2500", "pipeline.utc_offset: '+2500' is not allowed"),
    ("pipeline.timezone", "Central European", "pipeline.timezone: 'Central European' is not allowed"),
    (
        "glue.max_retries",
        1,
        "dev.yaml: (top level): glue.max_retries 1 with the pipeline on: Glue retries as a new run",
    ),
    ("budget.monthly_usd", 0, "budget.monthly_usd: 0 is not allowed: Input should be greater than 0"),
    ("budget.monthly_usd", "lots", "budget.monthly_usd: 'lots' is not allowed: Input should be a valid"),
    ("budget.actual_percent", [80, 0], "budget.actual_percent: [80, 0] is not allowed: 0 is not a percent"),
    ("budget.actual_percent", [80, 80], "budget.actual_percent: [80, 80] is not allowed: lists a percentage"),
    (
        "budget.actual_percent",
        [10, 20, 30, 40, 50],
        "dev.yaml: budget: 6 thresholds: a budget notifies at 1 to 5",
    ),
    ("budget.forecast_percent", _DELETE, "budget.forecast_percent: required key is missing"),
    ("sagemaker.endpoint.latency_alarm_ms", 0, "sagemaker.endpoint.latency_alarm_ms: 0 is not allowed"),
]


@pytest.mark.parametrize(
    ("key", "value", "message"), BAD_INPUTS, ids=[f"{k}={v!r}"[:40] for k, v, _ in BAD_INPUTS]
)
def test_bad_value_is_named_in_one_line(tmp_path: Path, key: str, value: Any, message: str) -> None:
    assert message in _config_error(tmp_path, "dev", {key: value})


def test_key_admins_must_be_roles_of_the_configured_account(tmp_path: Path) -> None:
    changes = {
        "account": "111111111111",
        "region": "eu-west-1",
        "security.key_admins": ["arn:aws:iam::222222222222:role/keys"],
    }
    assert _config_error(tmp_path, "prod", changes) == (
        "prod.yaml: (top level): security.key_admins: arn:aws:iam::222222222222:role/keys not in account "
        "111111111111: a key administrator is a role of the account that holds the keys"
    )


def test_personal_data_readers_must_be_distinct_roles_of_the_configured_account(tmp_path: Path) -> None:
    reader = "arn:aws:iam::111111111111:role/privacy-review"
    assert _config_error(tmp_path, "prod", {"security.personal_data_readers.frames": [reader, reader]}) == (
        f"prod.yaml: security.personal_data_readers.frames: {[reader, reader]} is not allowed: "
        "lists a role more than once"
    )
    root = "arn:aws:iam::111111111111:root"
    assert _config_error(tmp_path, "prod", {"security.personal_data_readers.captures": [root]}) == (
        f"prod.yaml: security.personal_data_readers.captures: {[root]} is not allowed: "
        f"{root!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
    )
    changes = {
        "account": "222222222222",
        "region": "eu-west-1",
        "security.personal_data_readers.frames": [reader],
    }
    assert _config_error(tmp_path, "prod", changes) == (
        f"prod.yaml: (top level): security.personal_data_readers.frames: {reader} not in account "
        "222222222222: a reader is a role of the account that holds the keys"
    )


def _config_error(directory: Path, environment: str, changes: dict[str, Any]) -> str:
    """The error of the shipped ``environment`` with ``changes`` (dotted key -> value); one line."""
    document = yaml.safe_load((CONFIG_DIR / f"{environment}.yaml").read_text())
    for key, value in changes.items():
        _set(document, key, value)
    (directory / f"{environment}.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError) as raised:
        load_settings(environment, directory)
    text = str(raised.value)
    assert "\n" not in text, text
    return text


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ({"min_instances": 3, "max_instances": 2}, "instances: min_instances 3 exceeds max_instances 2"),
        ({"min_instances": 0}, "min_instances: 0 is not allowed: Input should be greater than or equal to 1"),
        (
            {"max_instances": 101},
            "max_instances: 101 is not allowed: Input should be less than or equal to 100",
        ),
        ({"invocations_per_instance": 0}, "invocations_per_instance: 0 is not allowed"),
        ({"data_capture_percent": 101}, "data_capture_percent: 101 is not allowed"),
    ],
)
def test_bad_instance_endpoint_is_named_in_one_line(
    tmp_path: Path, instances: dict[str, int], message: str
) -> None:
    changes = {f"sagemaker.endpoint.instances.{key}": value for key, value in instances.items()}
    assert message in _config_error(tmp_path, "prod", changes)


@pytest.mark.parametrize("region", ["eu-west-1", "us-west-2", "ap-southeast-2"])
def test_a_supported_region_loads(tmp_path: Path, region: str) -> None:
    document = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    document.update(account="123456789012", region=region)
    _write(tmp_path, document)
    assert load_settings("dev", tmp_path).region == region


@pytest.mark.parametrize("region", ["eu-north-1", "us-west-1", "cn-north-1", "xx-moon-1"])
def test_a_region_outside_the_supported_list_is_refused(tmp_path: Path, region: str) -> None:
    changes = {"account": "123456789012", "region": region}
    assert _config_error(tmp_path, "dev", changes) == (
        f"dev.yaml: region: {region!r} is not allowed: not a region the platform supports "
        f"({', '.join(SUPPORTED_REGIONS)})"
    )


def test_every_supported_region_has_the_sagemaker_image() -> None:
    assert set(SUPPORTED_REGIONS) <= set(sagemaker_image.REGISTRIES)


def test_the_pipeline_and_the_glue_workflow_are_not_both_scheduled(tmp_path: Path) -> None:
    changes = {"pipeline.schedule": "cron(0 3 * * ? *)", "glue.schedule": "cron(0 2 * * ? *)"}
    assert _config_error(tmp_path, "dev", changes) == (
        "dev.yaml: (top level): pipeline.schedule and glue.schedule are both set: the ingest would run twice "
        "a day; set glue.schedule: null (the pipeline runs the crawler and the ETL job)"
    )


def test_a_monthly_refresh_needs_a_day_of_the_month(tmp_path: Path) -> None:
    changes = {"quicksight.refresh.interval": "MONTHLY", "quicksight.refresh.day": "31"}
    assert _config_error(tmp_path, "dev", changes) == (
        "dev.yaml: quicksight.refresh: a MONTHLY refresh needs day: a day of the month from 1 to 28"
    )


def test_the_sampler_window_stays_within_retention(tmp_path: Path) -> None:
    changes = {
        "video.retention_hours": 1,
        "video.sampler.schedule": "rate(2 hours)",
        "video.sampler.window_minutes": 120,
    }
    assert _config_error(tmp_path, "dev", changes) == (
        "dev.yaml: video: sampler.window_minutes 120 reaches back further than retention_hours 1"
    )


def test_sagemaker_names_must_leave_room_for_the_run_id(tmp_path: Path) -> None:
    document = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    _write(tmp_path, document, "staging-eu-west-1-green-canary")
    with pytest.raises(ConfigError) as raised:
        load_settings("staging-eu-west-1-green-canary", tmp_path)
    assert str(raised.value) == (
        "staging-eu-west-1-green-canary.yaml: (top level): SageMaker names start with "
        "'dsp-staging-eu-west-1-green-canary-forecast', longer than 40 characters (SageMaker allows 63 with "
        "the run id): shorten prefix or the environment name"
    )
    document["sagemaker"]["enabled"] = False
    _write(tmp_path, document, "staging-eu-west-1-green-canary")
    assert (
        load_settings("staging-eu-west-1-green-canary", tmp_path).environment
        == "staging-eu-west-1-green-canary"
    )


def test_training_script_targets_the_mapped_image() -> None:
    from config import sagemaker_image
    from workloads.sagemaker import train

    assert train.IMAGE_VERSION == sagemaker_image.VERSION


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("prefix: [unclosed\n", "dev.yaml: not valid YAML:"),
        ("", "dev.yaml: must hold a mapping of settings, got NoneType"),
        ("- a\n- b\n", "dev.yaml: must hold a mapping of settings, got list"),
    ],
)
def test_unreadable_file_is_named(tmp_path: Path, content: str, message: str) -> None:
    _write(tmp_path, content)
    with pytest.raises(ConfigError, match="^" + message.replace("[", r"\[")):
        load_settings("dev", tmp_path)


@pytest.mark.parametrize(
    "schedule", ["cron(0 2 * * ? *)", "cron(15 3 ? * MON-FRI *)", "cron(0/30 8-18 L * ? 2027)", None]
)
def test_valid_glue_schedules_load(tmp_path: Path, schedule: str | None) -> None:
    document = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    document["glue"]["schedule"] = schedule
    _write(tmp_path, document)
    assert load_settings("dev", tmp_path).glue.schedule == schedule


def test_unknown_environment_lists_the_known_ones(tmp_path: Path) -> None:
    shutil.copy(CONFIG_DIR / "dev.yaml", tmp_path / "dev.yaml")
    with pytest.raises(ConfigError, match=r"^env: unknown environment 'staging'; allowed: dev$"):
        load_settings("staging", tmp_path)
    with pytest.raises(ConfigError, match=r"allowed: \(none\)"):
        load_settings("dev", tmp_path / "missing")


def test_app_prints_one_line_and_exits_non_zero_without_traceback() -> None:
    environ = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"env": "staging"})}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=environ, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == "config error: env: unknown environment 'staging'; allowed: dev, prod"
    assert "Traceback" not in result.stderr + result.stdout


def test_viewers_of_other_accounts_need_an_external_id_or_organization(tmp_path: Path) -> None:
    own, other = "arn:aws:iam::123456789012:role/own", "arn:aws:iam::210987654321:role/partner"
    placed = {"account": "123456789012", "region": "eu-west-1", "video.viewer.principals": [own, other]}
    assert _config_error(tmp_path, "dev", placed).endswith(
        f"video.viewer.principals: {other!r} is outside account 123456789012: "
        "set video.viewer.external_id or organization_id"
    )
    document = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    for key, value in {**placed, "video.viewer.principals": [own]}.items():
        _set(document, key, value)
    _write(tmp_path, document)
    assert load_settings("dev", tmp_path).video.viewer.principals == [own]
    _set(document, "video.viewer.principals", [own, other])
    _set(document, "video.viewer.organization_id", "o-abcdefghij")
    _write(tmp_path, document)
    assert load_settings("dev", tmp_path).video.viewer.foreign("123456789012") == [other]
