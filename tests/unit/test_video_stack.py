"""VideoStack: encrypted streams, device access through IoT, the viewer role, the sampler, alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from app import Platform, create_app
from config.settings import load_settings
from platform_constructs.buckets import AccessLogBucket, Housekeeping
from platform_constructs.personal_data import PersonalDataStore
from platform_constructs.video.access import (
    CONSUMER_ACTIONS,
    PRODUCER_ACTIONS,
    SESSION_URL_ACTIONS,
    THING_NAME,
)
from platform_constructs.video.sampler import FrameSampler
from tests.checks.test_cfn_lint import lint
from tests.conftest import Synthesized
from tests.unit.policies import as_list, lake_grants, role_statements

STACK = "Video"
KEY = "StreamKey9F296F4F"
PRODUCER, CONSUMER = "AccessProducerRole385180D8", "AccessConsumerRole2F04CEED"
ROLE_ALIAS, IOT_POLICY = "AccessRoleAliasD7CF2EB3", "AccessDevicePolicy4CE7DA83"
FUNCTION, SAMPLER_ROLE = "SamplerFunction14436B6F", "SamplerRole18499F1D"
SCHEDULE, DEAD_LETTERS = "SamplerSchedule3CDB7674", "SamplerDeadLetters9E44C8A8"
ENTRANCE = "Streamsstore001entrance0D43DBBD"
FRAMES = "Frames73E3B82F"
STATEFUL = [KEY, ENTRANCE, FRAMES]


def _streams(env: Synthesized) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["Name"]: r for r in env.resources(STACK, "AWS::KinesisVideo::Stream").values()}


def _logical_ids(env: Synthesized) -> dict[str, str]:
    return {
        r["Properties"]["Name"]: lid for lid, r in env.resources(STACK, "AWS::KinesisVideo::Stream").items()
    }


def test_stateful_logical_ids_are_pinned(env: Synthesized) -> None:
    assert set(STATEFUL) <= set(env.raw(STACK)["Resources"])


def test_one_encrypted_stream_per_camera_named_and_kept_per_environment(env: Synthesized) -> None:
    config = env.settings.video
    streams = _streams(env)
    assert sorted(streams) == sorted(env.settings.stream_name(camera) for camera in config.cameras)
    for stream in streams.values():
        props = stream["Properties"]
        assert props["KmsKeyId"] == {"Fn::GetAtt": [KEY, "Arn"]}
        assert props["DataRetentionInHours"] == config.retention_hours > 0
        assert props["MediaType"] == "video/h264"
        assert stream["DeletionPolicy"] == ("Delete" if env.settings.destroy_on_delete else "Retain")


def test_stream_key_rotates(env: Synthesized) -> None:
    """Its policy is held with every platform key's in tests/unit/test_keys.py."""
    assert env.properties(STACK, KEY)["EnableKeyRotation"] is True


def test_cameras_assume_the_producer_role_through_the_iot_role_alias_only(env: Synthesized) -> None:
    trust = env.properties(STACK, PRODUCER)["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "credentials.iot.amazonaws.com"}]
    alias = env.properties(STACK, ROLE_ALIAS)
    assert alias["RoleArn"] == {"Fn::GetAtt": [PRODUCER, "Arn"]}
    assert alias["RoleAlias"] == f"{env.settings.name_prefix}-camera"
    assert alias["CredentialDurationSeconds"] == env.settings.video.credential_duration_seconds
    (statement,) = env.properties(STACK, IOT_POLICY)["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"]) == (
        "iot:AssumeRoleWithCertificate",
        {"Fn::GetAtt": [ROLE_ALIAS, "RoleAliasArn"]},
    )


def test_a_camera_may_only_put_into_the_stream_named_after_its_thing(env: Synthesized) -> None:
    statements = role_statements(env, STACK, PRODUCER)
    (media,) = [
        s for s in statements if "kinesisvideo:PutMedia" in as_list(s["Action"]) and s["Effect"] == "Allow"
    ]
    assert sorted(as_list(media["Action"])) == sorted(PRODUCER_ACTIONS)
    assert json.dumps(media["Resource"]).endswith(f':stream/{THING_NAME}/*"]]}}')
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert sorted(as_list(deny["Action"])) == sorted(PRODUCER_ACTIONS)
    assert json.dumps(deny["NotResource"]).endswith(f':stream/{env.settings.name_prefix}-*/*"]]}}')
    (key,) = [s for s in statements if s not in (media, deny)]
    assert key["Action"] == "kms:GenerateDataKey" and key["Resource"] == {"Fn::GetAtt": [KEY, "Arn"]}
    assert "kinesisvideo." in json.dumps(key["Condition"]["StringEquals"]["kms:ViaService"])


def _viewer_template(root: Any, account: str | None = None, **viewer: Any) -> dict[str, Any]:
    """The Video template of dev with ``video.viewer`` changed (and ``account``/region if given)."""
    settings = load_settings("dev")
    video = settings.video.model_copy(update={"viewer": settings.video.viewer.model_copy(update=viewer)})
    update: dict[str, Any] = {"video": video}
    if account is not None:
        update.update(account=account, region="eu-west-1")
    app, platform = create_app(settings.model_copy(update=update), outdir=str(root))
    app.synth()
    assert platform.video is not None
    return dict(json.loads((root / "Video.template.json").read_text()))


OWN, PARTNER = "arn:aws:iam::123456789012:role/own", "arn:aws:iam::210987654321:role/partner"


@pytest.fixture(scope="module")
def known_account(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    """Dev in account 123456789012 with a viewer of its own and one of another account (external ID
    and organization), session URLs off: the app's folder and the Video template."""
    root = tmp_path_factory.mktemp("viewers")
    conditions = {"external_id": "store-42", "organization_id": "o-abcdefghij"}
    return root, _viewer_template(root, "123456789012", principals=[OWN, PARTNER], **conditions)


@pytest.fixture(scope="module")
def unknown_account(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Dev without an account, one viewer with an external ID, session URLs on: the Video template."""
    root = tmp_path_factory.mktemp("viewers-unknown-account")
    return _viewer_template(root, principals=[OWN], external_id="store-42", session_urls=True)


def _viewer_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == [{"Ref": CONSUMER}]
    ]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def test_no_viewer_role_unless_roles_are_named(env: Synthesized) -> None:
    assert not env.settings.video.viewer.principals
    assert CONSUMER not in env.raw(STACK)["Resources"]
    assert "ConsumerRoleArn" not in env.raw(STACK).get("Outputs", {})


def test_viewers_read_exactly_the_platforms_streams_without_session_urls(
    known_account: tuple[Any, dict[str, Any]],
) -> None:
    _, template = known_account
    statements = _viewer_statements(template)
    (read,) = [s for s in statements if "kinesisvideo:GetMedia" in as_list(s["Action"])]
    assert sorted(as_list(read["Action"])) == sorted(CONSUMER_ACTIONS)
    assert not set(SESSION_URL_ACTIONS) & set(json.dumps(statements).split('"'))
    streams = {lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::KinesisVideo::Stream"}
    assert {r["Fn::GetAtt"][0] for r in as_list(read["Resource"])} == streams
    (decrypt,) = [s for s in statements if s is not read]
    assert decrypt["Action"] == "kms:Decrypt" and "kms:ViaService" in decrypt["Condition"]["StringEquals"]


def test_session_urls_only_when_configured(unknown_account: dict[str, Any]) -> None:
    (read,) = [
        s for s in _viewer_statements(unknown_account) if "kinesisvideo:GetMedia" in as_list(s["Action"])
    ]
    assert sorted(as_list(read["Action"])) == sorted(CONSUMER_ACTIONS + SESSION_URL_ACTIONS)


def test_other_accounts_viewers_are_trusted_only_under_the_external_id_and_org(
    known_account: tuple[Any, dict[str, Any]],
) -> None:
    root, template = known_account
    trust = template["Resources"][CONSUMER]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    by_principal = {s["Principal"]["AWS"]: s for s in trust}
    assert set(by_principal) == {OWN, PARTNER} and all(s["Action"] == "sts:AssumeRole" for s in trust)
    assert "Condition" not in by_principal[OWN]  # same account: no condition
    assert by_principal[PARTNER]["Condition"] == {
        "StringEquals": {"sts:ExternalId": "store-42", "aws:PrincipalOrgID": "o-abcdefghij"}
    }
    assert not lint([str(root / "Video.template.json")])  # the default configs have no viewer role


def test_every_viewer_is_conditioned_when_the_account_is_unknown(unknown_account: dict[str, Any]) -> None:
    (trust,) = unknown_account["Resources"][CONSUMER]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": OWN}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "store-42"}}


def test_sampler_runs_on_the_schedule_over_its_window_and_streams(env: Synthesized) -> None:
    config = env.settings.video.sampler
    rule = env.properties(STACK, SCHEDULE)
    assert rule["ScheduleExpression"] == config.schedule
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    template = target["InputTransformer"]["InputTemplate"]
    assert target["InputTransformer"]["InputPathsMap"] == {"time": "$.time"}
    names = sorted(env.settings.stream_name(c) for c in env.settings.video.cameras)
    assert json.loads(template.replace("<time>", '"T"')) == {
        "streams": names,
        "end": "T",
        "window_minutes": config.window_minutes,
    }


def test_sampler_function_settings(env: Synthesized) -> None:
    function = env.properties(STACK, FUNCTION)
    assert function["Runtime"] == "python3.14" and function["Architectures"] == ["arm64"]
    assert function["Handler"] == "workloads.video.frame_sampler.handler"
    reserved = env.settings.video.sampler.reserved_concurrency
    assert function.get("ReservedConcurrentExecutions") == reserved
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [DEAD_LETTERS, "Arn"]}}
    variables = function["Environment"]["Variables"]
    assert variables["SAMPLING_INTERVAL_MS"] == str(env.settings.video.sampler.sampling_interval_ms)
    assert variables["BUCKET"] == {"Ref": FRAMES}
    (log_group,) = env.resources(STACK, "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["RetentionInDays"] == env.settings.video.log_retention_days
    assert "KmsKeyId" in log_group["Properties"]
    queue = env.properties(STACK, DEAD_LETTERS)
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    (invoke,) = env.resources(STACK, "AWS::Lambda::EventInvokeConfig").values()
    assert invoke["Properties"]["MaximumRetryAttempts"] == 2


def test_frames_have_a_bucket_of_their_own_under_the_stream_key_and_expire(env: Synthesized) -> None:
    bucket = env.properties(STACK, FRAMES)
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [KEY, "Arn"]},  # camera imagery, as the streams
    }
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpirePersonalData"]["ExpirationInDays"] == env.settings.personal_data_retention_days
    assert env.raw(STACK)["Resources"][FRAMES]["DeletionPolicy"] == (
        "Delete" if env.settings.destroy_on_delete else "Retain"
    )


def test_sampler_reserves_no_concurrency_unless_configured(env: Synthesized) -> None:
    """A new account's concurrency quota of 10 leaves none to reserve: reserving is opt-in."""
    assert env.settings.video.sampler.reserved_concurrency is None
    assert "ReservedConcurrentExecutions" not in env.properties(STACK, FUNCTION)


def test_a_configured_reservation_reaches_the_sampler() -> None:
    stack = Stack(App(), "Opted")
    key = kms.Key(stack, "Key")
    housekeeping = Housekeeping(Duration.days(1), Duration.days(1))
    frames = PersonalDataStore(
        stack,
        "Frames",
        data_class="frames",
        key=key,
        readers=[],
        retention=Duration.days(1),
        access_logs=AccessLogBucket(stack, "Logs", retention=Duration.days(1), housekeeping=housekeeping),
        housekeeping=housekeeping,
    )
    sampler = FrameSampler(
        stack,
        "Sampler",
        streams={"camera": "arn:aws:kinesisvideo:eu-west-1:123456789012:stream/camera/1"},
        stream_key=key,
        frames=frames,
        schedule="rate(15 minutes)",
        window=Duration.minutes(15),
        sampling_interval=Duration.seconds(10),
        alarm_topic=sns.Topic(stack, "Topic"),
        logs_key=key,
        log_retention=logs.RetentionDays.ONE_MONTH,
        reserved_concurrency=1,
    )
    function = stack.get_logical_id(sampler.function.node.default_child)  # type: ignore[arg-type]
    resources = Template.from_stack(stack).to_json()["Resources"]
    assert resources[function]["Properties"]["ReservedConcurrentExecutions"] == 1


def test_sampler_may_read_images_and_put_frames_only(env: Synthesized) -> None:
    statements = role_statements(env, STACK, SAMPLER_ROLE)
    (video,) = [s for s in statements if any(a.startswith("kinesisvideo:") for a in as_list(s["Action"]))]
    assert sorted(as_list(video["Action"])) == ["kinesisvideo:GetDataEndpoint", "kinesisvideo:GetImages"]
    assert sorted(r["Fn::GetAtt"][0] for r in as_list(video["Resource"])) == sorted(
        _logical_ids(env).values()
    )
    assert lake_grants(env, STACK, SAMPLER_ROLE) == {}  # nothing in the lake
    (put,) = [s for s in statements if s["Action"] == "s3:PutObject"]
    assert put["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [FRAMES, "Arn"]}, "/*"]]}
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert not [a for a in actions if a.endswith("*") or a in ("s3:GetObject", "s3:DeleteObject")]
    assert "sqs:SendMessage" in actions
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert (
        decrypt["Resource"] == {"Fn::GetAtt": [KEY, "Arn"]}
        and "kms:ViaService" in decrypt["Condition"]["StringEquals"]
    )
    (frames_key,) = [s for s in statements if "kms:GenerateDataKey" in as_list(s["Action"])]
    assert frames_key["Resource"] == {"Fn::GetAtt": [KEY, "Arn"]}  # frames are under the stream key


def test_alarms_notify_the_alarm_topic(env: Synthesized) -> None:
    alarms = {lid: a["Properties"] for lid, a in env.resources(STACK, "AWS::CloudWatch::Alarm").items()}
    for props in alarms.values():
        assert "AlarmsTopic" in json.dumps(props["AlarmActions"])
    metrics = sorted(p["MetricName"] for p in alarms.values())
    silence = env.settings.video.no_fragments_alarm_minutes
    expected = ["ApproximateNumberOfMessagesVisible", "Errors", "Throttles"]
    if silence is not None:
        expected += ["PutMedia.IncomingFragments"] * len(env.settings.video.cameras)
    assert metrics == sorted(expected)
    for props in alarms.values():
        if props["MetricName"] == "PutMedia.IncomingFragments":
            assert (
                props["ComparisonOperator"] == "LessThanThreshold"
                and props["TreatMissingData"] == "breaching"
            )
            assert props["EvaluationPeriods"] * props["Period"] == silence * 60


def test_disabled_video_leaves_the_stack_out(services_off: tuple[App, Platform]) -> None:
    app, platform = services_off
    assert platform.video is None
    assert STACK not in [child.node.id for child in app.node.children]
