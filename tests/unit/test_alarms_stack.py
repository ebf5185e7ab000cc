"""AlarmsStack: one KMS-encrypted, TLS-only topic that EventBridge, CloudWatch and Budgets of this
account reach, and the operations key that encrypts it and every log group of the platform."""

from __future__ import annotations

from typing import Any

from tests.conftest import Synthesized

STACK = "Alarms"


def test_topic_is_encrypted_with_the_rotating_operations_key(env: Synthesized) -> None:
    (key_id,) = env.resources(STACK, "AWS::KMS::Key")
    assert key_id.startswith("OperationsKey")  # pinned: every log group of the platform uses it
    assert env.resources(STACK, "AWS::KMS::Key")[key_id]["Properties"]["EnableKeyRotation"] is True
    (topic,) = env.resources(STACK, "AWS::SNS::Topic").values()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    env.template(STACK).has_resource_properties(
        "AWS::KMS::Alias",
        {
            "AliasName": f"alias/dsp-{env.settings.environment}-operations",
            "TargetKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
        },
    )


def test_operations_key_admits_cloudwatch_logs_only_for_this_accounts_log_groups(env: Synthesized) -> None:
    (key,) = env.resources(STACK, "AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in statements if s.get("Sid") == "AllowCloudWatchLogsOfThisAccountAndRegion"]
    assert logs["Principal"] == {
        "Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    }
    assert "kms:Decrypt" in logs["Action"] and "kms:*" not in logs["Action"]
    assert list(logs["Condition"]["ArnLike"]) == ["kms:EncryptionContext:aws:logs:arn"]


ACCOUNT = {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def _arn(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


ALARMS = _arn(
    "arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:", {"Ref": "AWS::Region"}, ":",
    {"Ref": "AWS::AccountId"}, ":alarm:*",
)  # fmt: skip
BUDGETS = _arn("arn:", {"Ref": "AWS::Partition"}, ":budgets::", {"Ref": "AWS::AccountId"}, ":*")
TOPIC_CONDITIONS = {
    "events.amazonaws.com": None,  # EventBridge guide: no Condition block for EventBridge
    "cloudwatch.amazonaws.com": {"StringEquals": ACCOUNT, "ArnLike": {"aws:SourceArn": ALARMS}},
    "budgets.amazonaws.com": {"StringEquals": ACCOUNT, "ArnLike": {"aws:SourceArn": BUDGETS}},
}
"""Each publisher's documented topic-policy conditions (EventBridge, CloudWatch, Budgets guides):
EventBridge takes no ``Condition`` block in a topic policy (its resource-based policies page)."""
KEY_CONDITIONS = {
    "events.amazonaws.com": None,  # SNS: not supported for EventBridge to encrypted topics
    "cloudwatch.amazonaws.com": TOPIC_CONDITIONS["cloudwatch.amazonaws.com"],
    "budgets.amazonaws.com": TOPIC_CONDITIONS["budgets.amazonaws.com"],
}


def _by_service(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The statements that name one AWS service principal, by that service."""
    found: dict[str, dict[str, Any]] = {}
    for statement in statements:
        principal = statement.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else None
        if isinstance(service, str) and service in TOPIC_CONDITIONS:
            assert service not in found, f"{service} has two statements"
            found[service] = statement
    return found


def test_each_alarm_publisher_may_publish_under_the_conditions_it_sends(env: Synthesized) -> None:
    (policy,) = env.resources(STACK, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    publish = _by_service(statements)
    assert {service: s.get("Condition") for service, s in publish.items()} == TOPIC_CONDITIONS
    assert all(s["Action"] == "sns:Publish" and s["Effect"] == "Allow" for s in publish.values())
    tls = [s for s in statements if s["Effect"] == "Deny"]
    assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_each_alarm_publisher_may_use_the_key_only_with_condition_keys_it_sends(env: Synthesized) -> None:
    """EventBridge sends no ``aws:SourceAccount``/``aws:SourceArn`` to KMS for an encrypted topic,
    so any such condition on its key statement drops every EventBridge alert."""
    (key,) = env.resources(STACK, "AWS::KMS::Key").values()
    use = _by_service(key["Properties"]["KeyPolicy"]["Statement"])
    assert {service: s.get("Condition") for service, s in use.items()} == KEY_CONDITIONS
    assert all(sorted(s["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"] for s in use.values())
    assert "Condition" not in use["events.amazonaws.com"]


def test_no_subscriptions_without_configured_addresses(env: Synthesized) -> None:
    assert env.settings.alarms.emails == []
    env.template(STACK).resource_count_is("AWS::SNS::Subscription", 0)
