"""DataLakeStack: encryption, TLS, public access, lifecycle, retention, catalog, Athena."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk.assertions import Template
from pydantic import ValidationError

from app import feature_flags
from config.settings import LakeSettings, load_settings
from platform_constructs.buckets import Housekeeping, Tiering
from platform_constructs.data_lake import DataLake
from tests.conftest import Synthesized

STACK = "DataLake"
KEY = "LakeKey7B6C155C"
LOG_BUCKET = "LakeAccessLogs4431AB8D"
DATA_BUCKETS = {
    "raw": "LakeRaw8A880B75",
    "curated": "LakeCurated8ED8635F",
    "analytics": "LakeAnalyticsB9F8ACA8",
    "artifacts": "LakeArtifacts2DD6A05E",
}
DATABASES = {
    "raw": "CatalogRaw4452C672",
    "curated": "CatalogCurated97837363",
    "analytics": "CatalogAnalyticsF8C25E79",
}
WORKGROUP = "AthenaWorkGroup3D21B179"
STATEFUL = [KEY, LOG_BUCKET, *DATA_BUCKETS.values(), *DATABASES.values(), WORKGROUP]


def test_stateful_logical_ids_are_pinned(env: Synthesized) -> None:
    """Renaming a construct ID of stateful data would replace it; these IDs must not change."""
    resources = env.raw(STACK)["Resources"]
    assert set(STATEFUL) <= set(resources), sorted(set(STATEFUL) - set(resources))
    assert set(env.resources(STACK, "AWS::S3::Bucket")) == {LOG_BUCKET, *DATA_BUCKETS.values()}


def test_key_rotates_and_has_alias(env: Synthesized) -> None:
    key = env.resources(STACK, "AWS::KMS::Key")[KEY]
    assert key["Properties"]["EnableKeyRotation"] is True
    env.template(STACK).has_resource_properties(
        "AWS::KMS::Alias",
        {
            "AliasName": f"alias/dsp-{env.settings.environment}-lake",
            "TargetKeyId": {"Fn::GetAtt": [KEY, "Arn"]},
        },
    )


@pytest.mark.parametrize("bucket", DATA_BUCKETS.values())
def test_data_buckets_use_the_lake_key_with_bucket_keys(env: Synthesized, bucket: str) -> None:
    props = env.resources(STACK, "AWS::S3::Bucket")[bucket]["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [KEY, "Arn"]},
    }


def test_access_log_bucket_uses_sse_s3_because_log_delivery_requires_it(env: Synthesized) -> None:
    props = env.resources(STACK, "AWS::S3::Bucket")[LOG_BUCKET]["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "LoggingConfiguration" not in props


def test_every_bucket_blocks_public_access_enforces_ownership_and_versions(env: Synthesized) -> None:
    for logical_id, bucket in env.resources(STACK, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, (
            logical_id
        )
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id


def test_every_bucket_policy_denies_plain_http_and_old_tls(env: Synthesized) -> None:
    policies = env.resources(STACK, "AWS::S3::BucketPolicy")
    assert {policy["Properties"]["Bucket"]["Ref"] for policy in policies.values()} == {
        LOG_BUCKET,
        *DATA_BUCKETS.values(),
    }
    for policy in policies.values():
        denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        conditions = [deny["Condition"] for deny in denies if deny["Action"] == "s3:*"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions
        assert all(deny["Principal"] == {"AWS": "*"} for deny in denies)


def _bucket_policy(env: Synthesized, bucket: str) -> list[dict[str, Any]]:
    (policy,) = [
        policy
        for policy in env.resources(STACK, "AWS::S3::BucketPolicy").values()
        if policy["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def _put_refusals(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if s["Effect"] == "Deny" and s["Action"] == "s3:PutObject"]


@pytest.mark.parametrize("bucket", DATA_BUCKETS.values())
def test_data_buckets_refuse_puts_under_another_key_or_sse_c(env: Synthesized, bucket: str) -> None:
    """A stolen writer credential cannot re-encrypt objects under a key it owns, nor under SSE-S3 or
    SSE-C; a put without headers is not refused (the bucket default applies the lake key)."""
    refusals = _put_refusals(_bucket_policy(env, bucket))
    objects = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]}
    certificates = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/emr/tls/*"]]}
    assert all(s["Principal"] == {"AWS": "*"} for s in refusals)
    # artifacts' emr/tls/ holds EMR's certificate zips, under a key of their own (still SSE-KMS), and
    # emr/logs/ the logs of transient clusters, which cannot name a key (SSE-S3, never SSE-C)
    cluster_logs = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/emr/logs/*"]]}
    exempt = bucket == DATA_BUCKETS["artifacts"]
    key_pin, encryption, customer_keys = refusals
    assert key_pin.get("NotResource" if exempt else "Resource") == (certificates if exempt else objects)
    assert encryption.get("NotResource" if exempt else "Resource") == (cluster_logs if exempt else objects)
    assert customer_keys["Resource"] == objects
    assert [s["Condition"] for s in refusals] == [
        {
            "StringNotEqualsIfExists": {
                "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": [KEY, "Arn"]}
            }
        },
        {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
    ]


def test_access_log_bucket_does_not_refuse_sse_s3_log_delivery(env: Synthesized) -> None:
    assert not _put_refusals(_bucket_policy(env, LOG_BUCKET))


def test_object_lock_is_off_unless_configured(env: Synthesized) -> None:
    assert env.settings.lake.object_lock_days is None
    for logical_id, bucket in env.resources(STACK, "AWS::S3::Bucket").items():
        assert "ObjectLockEnabled" not in bucket["Properties"], logical_id
        assert "ObjectLockConfiguration" not in bucket["Properties"], logical_id


def test_object_lock_locks_raw_and_curated_in_governance_mode() -> None:
    stack = Stack(App(context=feature_flags()), "Locked")
    DataLake(
        stack,
        "Lake",
        key_alias="alias/locked",
        key_admins=[],
        tiering=Tiering(infrequent_access_after=Duration.days(30)),
        housekeeping=Housekeeping(
            noncurrent_version_expiry=Duration.days(7), abort_incomplete_upload_after=Duration.days(1)
        ),
        access_log_retention=Duration.days(30),
        query_results_retention=Duration.days(7),
        object_lock_retention=Duration.days(35),
    )
    buckets = Template.from_stack(stack).find_resources("AWS::S3::Bucket")
    locked = {
        logical_id: bucket["Properties"].get("ObjectLockConfiguration")
        for logical_id, bucket in buckets.items()
        if bucket["Properties"].get("ObjectLockEnabled")
    }
    assert locked == {
        DATA_BUCKETS[zone]: {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 35}},
        }
        for zone in ("raw", "curated")
    }


@pytest.mark.parametrize("zone", DATA_BUCKETS)
def test_data_buckets_log_access_to_the_log_bucket(env: Synthesized, zone: str) -> None:
    props = env.resources(STACK, "AWS::S3::Bucket")[DATA_BUCKETS[zone]]["Properties"]
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": LOG_BUCKET},
        "LogFilePrefix": f"{zone}/",
    }


def _rules(env: Synthesized, bucket: str) -> dict[str, dict]:
    props = env.resources(STACK, "AWS::S3::Bucket")[bucket]["Properties"]
    return {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}


@pytest.mark.parametrize("zone", ["raw", "curated", "analytics"])
def test_zone_data_is_tiered_by_age_from_config(env: Synthesized, zone: str) -> None:
    lifecycle = env.settings.lake.lifecycle
    expected = [{"StorageClass": "STANDARD_IA", "TransitionInDays": lifecycle.infrequent_access_after_days}]
    if lifecycle.archive_after_days is not None:
        expected.append({"StorageClass": "GLACIER_IR", "TransitionInDays": lifecycle.archive_after_days})
    assert _rules(env, DATA_BUCKETS[zone])["Housekeeping"]["Transitions"] == expected


def test_prod_archives_and_dev_does_not(dev: Synthesized, prod: Synthesized) -> None:
    raw = DATA_BUCKETS["raw"]
    assert [t["StorageClass"] for t in _rules(prod, raw)["Housekeeping"]["Transitions"]] == [
        "STANDARD_IA",
        "GLACIER_IR",
    ]
    assert [t["StorageClass"] for t in _rules(dev, raw)["Housekeeping"]["Transitions"]] == ["STANDARD_IA"]


def test_every_bucket_expires_old_versions_and_aborts_stale_uploads(env: Synthesized) -> None:
    lifecycle = env.settings.lake.lifecycle
    for logical_id in env.resources(STACK, "AWS::S3::Bucket"):
        housekeeping = _rules(env, logical_id)["Housekeeping"]
        assert housekeeping["Status"] == "Enabled"
        assert housekeeping["ExpiredObjectDeleteMarker"] is True
        assert housekeeping["NoncurrentVersionExpiration"] == {
            "NoncurrentDays": lifecycle.noncurrent_version_expiry_days
        }
        assert housekeeping["AbortIncompleteMultipartUpload"] == {
            "DaysAfterInitiation": lifecycle.abort_incomplete_upload_days
        }


def test_frames_and_captured_requests_expire_as_the_streams_keep_video(env: Synthesized) -> None:
    """Personal data in raw expires after the configured days, by default the streams' retention
    (dev 24 h: 1 day; prod 720 h: 30 days); other raw data is only tiered."""
    days = {"dev": 1, "prod": 30}[env.settings.environment]
    assert env.settings.personal_data_retention_days == days
    rules = _rules(env, DATA_BUCKETS["raw"])
    expiring = {
        rule["Prefix"]: rule["ExpirationInDays"] for rule in rules.values() if "ExpirationInDays" in rule
    }
    assert expiring == {"video/frames/": days, "sagemaker/data-capture/": days}
    assert all(rules[f"Expire{name}"]["Status"] == "Enabled" for name in ("Frames", "Captures"))


def test_personal_data_retention_is_configurable_and_bounded() -> None:
    settings = load_settings("dev")
    lake = settings.lake.model_copy(update={"personal_data_retention_days": 90})
    assert settings.model_copy(update={"lake": lake}).personal_data_retention_days == 90
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        LakeSettings.model_validate({**settings.lake.model_dump(), "personal_data_retention_days": 0})


def test_artifacts_are_not_tiered_and_query_results_expire(env: Synthesized) -> None:
    rules = _rules(env, DATA_BUCKETS["artifacts"])
    assert "Transitions" not in rules["Housekeeping"]
    assert rules["ExpireQueryResults"]["Prefix"] == "athena-results/"
    assert rules["ExpireQueryResults"]["ExpirationInDays"] == env.settings.lake.athena_results_retention_days


def test_access_logs_expire_after_configured_retention(env: Synthesized) -> None:
    assert (
        _rules(env, LOG_BUCKET)["ExpireLogs"]["ExpirationInDays"]
        == env.settings.lake.access_log_retention_days
    )


def test_prod_retains_every_stateful_resource(prod: Synthesized) -> None:
    resources = prod.raw(STACK)["Resources"]
    for logical_id in STATEFUL:
        assert resources[logical_id]["DeletionPolicy"] == "Retain", logical_id
        assert resources[logical_id]["UpdateReplacePolicy"] == "Retain", logical_id
    assert not prod.resources(STACK, "Custom::S3AutoDeleteObjects")
    assert resources[WORKGROUP]["Properties"]["RecursiveDeleteOption"] is False


def test_dev_destroys_and_empties_buckets_with_a_warning(dev: Synthesized) -> None:
    resources = dev.raw(STACK)["Resources"]
    for logical_id in STATEFUL:
        assert resources[logical_id]["DeletionPolicy"] == "Delete", logical_id
    emptied = {
        r["Properties"]["BucketName"]["Ref"]
        for r in dev.resources(STACK, "Custom::S3AutoDeleteObjects").values()
    }
    assert emptied == {LOG_BUCKET, *DATA_BUCKETS.values()}
    warnings = dev.assembly.get_stack_artifact(STACK).find_metadata_by_type("aws:cdk:warning")
    assert any("DELETED when its stack is deleted" in str(entry.data) for entry in warnings)


@pytest.mark.parametrize("zone", ["raw", "curated", "analytics"])
def test_each_zone_has_a_glue_database_at_its_bucket(env: Synthesized, zone: str) -> None:
    database = env.resources(STACK, "AWS::Glue::Database")[DATABASES[zone]]["Properties"]
    assert database["CatalogId"] == {"Ref": "AWS::AccountId"}
    assert database["DatabaseInput"]["Name"] == f"dsp_{env.settings.environment}_{zone}"
    assert database["DatabaseInput"]["LocationUri"] == {
        "Fn::Join": ["", ["s3://", {"Ref": DATA_BUCKETS[zone]}]]
    }


def test_athena_workgroup_is_enforced_encrypted_and_capped(env: Synthesized) -> None:
    cutoff = env.settings.lake.athena_bytes_scanned_cutoff_mb * 1024 * 1024
    env.template(STACK).has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "Name": f"dsp-{env.settings.environment}",
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": True,
                "PublishCloudWatchMetricsEnabled": True,
                "BytesScannedCutoffPerQuery": cutoff,
                "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
                "ResultConfiguration": {
                    "OutputLocation": {
                        "Fn::Join": ["", ["s3://", {"Ref": DATA_BUCKETS["artifacts"]}, "/athena-results/"]]
                    },
                    "ExpectedBucketOwner": {"Ref": "AWS::AccountId"},
                    "EncryptionConfiguration": {
                        "EncryptionOption": "SSE_KMS",
                        "KmsKey": {"Fn::GetAtt": [KEY, "Arn"]},
                    },
                },
            },
        },
    )


def test_stack_exposes_typed_attributes(dev: Synthesized) -> None:
    stack = dev.platform.data_lake
    assert stack.lake.zones == {
        "raw": stack.lake.raw,
        "curated": stack.lake.curated,
        "analytics": stack.lake.analytics,
    }
    assert stack.catalog.database_names == {
        "raw": "dsp_dev_raw",
        "curated": "dsp_dev_curated",
        "analytics": "dsp_dev_analytics",
    }
    assert stack.athena.name == "dsp-dev"
    assert stack.lake.key.node.path == "DataLake/Lake/Key"
