"""Personal data (camera frames, captured endpoint requests) is read by the roles named in
``security.personal_data_readers`` and nobody else: each class has a bucket and key of its own whose
policies refuse every other reader, no role of the platform is granted a read of them, and no grant
on the raw bucket reaches what earlier versions left there."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from platform_constructs.personal_data import DECRYPT_ACTIONS, READ_ACTIONS
from tests.conftest import Synthesized
from tests.unit.policies import as_list, lake_buckets, policy_statements
from workloads.schema import LEGACY_PERSONAL_DATA_PREFIXES

LEGACY = {
    "frames": f"{LEGACY_PERSONAL_DATA_PREFIXES['frames']}camera-1/frame.jpg",
    "captures": f"{LEGACY_PERSONAL_DATA_PREFIXES['captures']}forecast/2026/12/02/capture.jsonl",
}
"""A key of each personal data class where earlier versions wrote it in the raw bucket."""
READS = {*READ_ACTIONS, "s3:GetObject*", "s3:Get*", "s3:*", "*"}


def _stores(env: Synthesized) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Data class -> (stack, bucket logical ID, the stack's template), from each bucket's log prefix."""
    stores = {}
    for artifact in env.assembly.stacks:
        template = env.raw(artifact.id)
        for logical_id, resource in template["Resources"].items():
            logging = resource.get("Properties", {}).get("LoggingConfiguration", {})
            if resource["Type"] == "AWS::S3::Bucket" and logging.get("LogFilePrefix") in (
                "frames/",
                "captures/",
            ):
                stores[logging["LogFilePrefix"].rstrip("/")] = (artifact.id, logical_id, template)
    return stores


def _exempt(statement: dict[str, Any]) -> list[Any]:
    return as_list(statement.get("Condition", {}).get("ArnNotEquals", {}).get("aws:PrincipalArn", []))


def test_each_class_has_a_store_where_its_service_runs(env: Synthesized) -> None:
    settings = env.settings
    captures = settings.sagemaker.enabled and settings.sagemaker.endpoint.instances is not None
    expected = {"frames": settings.video.enabled, "captures": captures}
    assert set(_stores(env)) == {data_class for data_class, present in expected.items() if present}


def test_only_the_named_readers_may_read_a_store_and_decrypt_its_key(env: Synthesized) -> None:
    readers = env.settings.security.personal_data_readers.model_dump()
    for data_class, (stack, bucket, template) in _stores(env).items():
        resources = template["Resources"]
        (policy,) = [
            r["Properties"]["PolicyDocument"]["Statement"]
            for r in resources.values()
            if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}
        ]
        (deny_reads,) = [s for s in policy if s.get("Sid") == "DenyReadsToAllButTheReaders"]
        assert deny_reads["Effect"] == "Deny" and set(READ_ACTIONS) <= set(as_list(deny_reads["Action"]))
        assert _exempt(deny_reads) == readers[data_class], (stack, data_class)
        encryption = resources[bucket]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        key = encryption[0]["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
        (deny_decrypt,) = [
            s
            for s in resources[key]["Properties"]["KeyPolicy"]["Statement"]
            if s.get("Sid") == "DenyDecryptThroughS3ToAllButTheReadersAndTheWriter"
        ]
        assert set(DECRYPT_ACTIONS) <= set(as_list(deny_decrypt["Action"]))
        *named, writer = _exempt(deny_decrypt)
        assert named == readers[data_class] and resources[writer["Fn::GetAtt"][0]]["Type"] == "AWS::IAM::Role"


def test_no_role_of_the_platform_is_granted_a_read_of_personal_data(env: Synthesized) -> None:
    stores = {(stack, bucket) for stack, bucket, _ in _stores(env).values()}
    readers, raw_grants = [], 0
    for artifact in env.assembly.stacks:
        for statement in policy_statements(env.raw(artifact.id)):
            body = statement.body
            if body.get("Effect") != "Allow" or body.get("Sid") == "AllowTheReaders":  # the named readers
                continue
            if not READS & set(as_list(body.get("Action", []))):
                continue
            for resource in as_list(body.get("Resource", [])):
                text = str(resource)
                readers += [
                    f"{artifact.id} {statement.logical_id} reads the store {bucket} of {stack}"
                    for stack, bucket in stores
                    if f"'{bucket}'" in text
                ]
                if lake_buckets(resource) != {"raw"}:
                    continue
                raw_grants += 1
                suffix = resource["Fn::Join"][1][-1].removeprefix("/") if "Fn::Join" in resource else ""
                readers += [
                    f"{artifact.id} {statement.logical_id} reads {kind} left in raw ({suffix})"
                    for kind, key in LEGACY.items()
                    if suffix and fnmatch(key, suffix)
                ]
    assert raw_grants > 0
    assert readers == []
