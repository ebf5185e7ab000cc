"""AlarmsStack: one KMS-encrypted, TLS-only topic that EventBridge, CloudWatch and Budgets of this
account reach."""

from __future__ import annotations

from tests.conftest import Synthesized

STACK = "Alarms"


def test_topic_is_encrypted_with_its_own_rotating_key(env: Synthesized) -> None:
    (key_id,) = env.resources(STACK, "AWS::KMS::Key")
    assert env.resources(STACK, "AWS::KMS::Key")[key_id]["Properties"]["EnableKeyRotation"] is True
    (topic,) = env.resources(STACK, "AWS::SNS::Topic").values()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    env.template(STACK).has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": f"alias/dsp-{env.settings.environment}-alarms"}
    )


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
