"""Every KMS key a service is told to write under is named by its ARN: the lake buckets refuse a put
whose ``x-amz-server-side-encryption-aws-kms-key-id`` is not the key's ARN, and a service sends the
key as it was given (an ID or alias would be refused)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.conftest import Synthesized

KEY_PROPERTIES = {"KmsKey", "KmsKeyId", "KmsKeyArn", "AwsKmsKey", "KMSMasterKeyID", "EncryptionKeyArn"}
"""Template properties (at any depth) that name a key for S3 output."""


def _named_keys(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in KEY_PROPERTIES:
                yield f"{path}.{key}", inner
            else:
                yield from _named_keys(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _named_keys(inner, f"{path}[{index}]")


def _is_arn(value: Any) -> bool:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return bool(value["Fn::GetAtt"][1] == "Arn")
    if isinstance(value, dict) and "Fn::GetStackOutput" in value:
        return "Arn" in value["Fn::GetStackOutput"]["OutputName"]
    return isinstance(value, str) and value.startswith("arn:")


def test_every_key_given_to_a_service_is_an_arn(env: Synthesized) -> None:
    found, not_arns = 0, []
    for artifact in env.assembly.stacks:
        for logical_id, resource in env.raw(artifact.id)["Resources"].items():
            for path, value in _named_keys(resource.get("Properties", {}), f"{artifact.id} {logical_id}"):
                found += 1
                if not _is_arn(value):
                    not_arns.append(f"{path}: {value}")
    assert found > 5 and not_arns == []
