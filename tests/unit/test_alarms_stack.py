"""AlarmsStack: one KMS-encrypted, TLS-only topic that EventBridge, CloudWatch and Budgets of this
account reach, and the operations key that encrypts it and every log group of the platform."""

from __future__ import annotations

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


def test_only_alarm_publishers_of_this_account_publish_and_use_the_key(env: Synthesized) -> None:
    services = ["budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]
    condition = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (policy,) = env.resources(STACK, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (publish,) = [s for s in statements if s.get("Sid") == "AllowAlarmPublishers"]
    assert sorted(publish["Principal"]["Service"]) == services and publish["Condition"] == condition
    assert publish["Action"] == "sns:Publish"
    tls = [s for s in statements if s["Effect"] == "Deny"]
    assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (key,) = env.resources(STACK, "AWS::KMS::Key").values()
    (use,) = [
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowAlarmPublishers"
    ]
    assert sorted(use["Principal"]["Service"]) == services and use["Condition"] == condition
    assert sorted(use["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_no_subscriptions_without_configured_addresses(env: Synthesized) -> None:
    assert env.settings.alarms.emails == []
    env.template(STACK).resource_count_is("AWS::SNS::Subscription", 0)
