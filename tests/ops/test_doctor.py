"""``dsp doctor`` against moto's server (CloudFormation, SSM, STS, EC2 instance types, Kinesis
Video, IAM), with botocore's Stubber for what moto lacks (Lambda account settings, QuickSight's
subscription and namespace, Cost Explorer tags, Service Quotas for EC2 and SageMaker, CloudTrail's
trails); the
numbers it holds the account to, checked against the synthesized templates; and ``make deploy``
running it first."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from config.settings import Settings, load_settings
from ops import cli, doctor
from ops.platform import Deployed
from tests.conftest import MOTO_REGION, ROOT, Synthesized

ACCOUNT = "123456789012"
"""moto's default account."""


def report(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, list[str]], str]:
    """Run ``dsp`` with ``arguments``: its exit code, each check's lines (level first) and stderr."""
    try:
        code = cli.main(list(arguments))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    lines: dict[str, list[str]] = {}
    for line in captured.out.splitlines()[1:-1]:
        level, rest = line.split(None, 1)
        check, text = rest.split(": ", 1)
        lines.setdefault(check, []).append(f"{level} {text}")
    return code, lines, captured.err


def quota(name: str, value: float, code: str = "L-00000000", service: str = "sagemaker") -> dict[str, Any]:
    return {"ServiceCode": service, "QuotaCode": code, "QuotaName": name, "Value": value}


def _sagemaker_quotas(stub: Stubber, defaults: list[dict[str, Any]], applied: list[dict[str, Any]]) -> None:
    stub.add_response("list_aws_default_service_quotas", {"Quotas": defaults}, {"ServiceCode": "sagemaker"})
    stub.add_response("list_service_quotas", {"Quotas": applied}, {"ServiceCode": "sagemaker"})


def _vcpu_quota(stub: Stubber, code: str, value: float, *, applied: bool = True) -> None:
    params = {"ServiceCode": "ec2", "QuotaCode": code}
    if applied:
        stub.add_response("get_service_quota", {"Quota": quota("vCPUs", value, code, "ec2")}, params)
        return
    stub.add_client_error(
        "get_service_quota", service_error_code="NoSuchResourceException", expected_params=params
    )
    stub.add_response("get_aws_default_service_quota", {"Quota": quota("vCPUs", value, code, "ec2")}, params)


@pytest.fixture
def connected(moto: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``connect(region)``: the Deployed ``dsp`` will use in ``region`` (moto's server behind it),
    and an active Stubber for each client moto lacks."""
    with ExitStack() as stack:
        made: dict[str, Deployed] = {}
        original = Deployed.connect

        def connect(region: str) -> tuple[Deployed, dict[str, Stubber]]:
            deployed = original("dsp-dev", profile=None, region=region)
            made[region] = deployed
            stubs = {
                service: stack.enter_context(Stubber(deployed.client(service)))
                for service in ("lambda", "quicksight", "ce", "service-quotas", "cloudtrail")
            }
            return deployed, stubs

        def reconnect(_: str, *, profile: str | None, region: str | None) -> Deployed:
            return made[region or MOTO_REGION]

        monkeypatch.setattr(cli.Deployed, "connect", reconnect)
        yield connect


TRAIL = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/management"


def _trail(stub: Stubber, *, logging: bool = True, selectors: dict[str, Any] | None = None) -> None:
    """A multi-region trail named ``management``, whose status and selectors the check then reads."""
    trail = {"Name": "management", "TrailARN": TRAIL, "IsMultiRegionTrail": True, "HomeRegion": "us-east-1"}
    stub.add_response("describe_trails", {"trailList": [trail]}, {"includeShadowTrails": True})
    stub.add_response("get_trail_status", {"IsLogging": logging}, {"Name": TRAIL})
    if logging:
        answer = {"TrailARN": TRAIL, **(selectors or {})}
        stub.add_response("get_event_selectors", answer, {"TrailName": TRAIL})


DATA_EVENTS = {"Field": "eventCategory", "Equals": ["Data"]}


def _bootstrap(region: str, version: str) -> None:
    template = {"Resources": {"Marker": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName="CDKToolkit", TemplateBody=json.dumps(template)
    )
    _, parameter = doctor.required_bootstrap()
    boto3.client("ssm", region_name=region).put_parameter(Name=parameter, Value=version, Type="String")


def test_a_ready_account_passes_every_check(connected: Any, capsys: Any) -> None:
    _bootstrap(MOTO_REGION, "30")
    _, stubs = connected(MOTO_REGION)
    stubs["lambda"].add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 999}},
    )
    subscription = {"Edition": "ENTERPRISE", "AccountSubscriptionStatus": "ACCOUNT_CREATED"}
    stubs["quicksight"].add_response(
        "describe_account_subscription", {"AccountInfo": subscription}, {"AwsAccountId": ACCOUNT}
    )
    stubs["quicksight"].add_response(
        "describe_namespace",
        {"Namespace": {"Name": "default", "CapacityRegion": MOTO_REGION}},
        {"AwsAccountId": ACCOUNT, "Namespace": "default"},
    )
    tags = [{"TagKey": key, "Type": "UserDefined", "Status": "Active"} for key in ("project", "environment")]
    stubs["ce"].add_response(
        "list_cost_allocation_tags", {"CostAllocationTags": tags}, {"TagKeys": ["project", "environment"]}
    )
    _vcpu_quota(stubs["service-quotas"], "L-1216C47A", 64)
    _vcpu_quota(stubs["service-quotas"], "L-34B43A08", 64)
    _sagemaker_quotas(
        stubs["service-quotas"],
        [quota("ml.m5.large for spot training job usage", 0), quota(doctor.SERVERLESS_CONCURRENCY, 10)],
        [quota("ml.m5.large for spot training job usage", 2)],
    )
    _trail(stubs["cloudtrail"])
    code, lines, err = report(capsys, "doctor", "--env", "dev")
    assert (code, err) == (0, "")
    assert {check: [line.split()[0] for line in found] for check, found in lines.items()} == {
        "cdk bootstrap": ["OK"],
        "quicksight": ["OK", "OK"],
        "lambda concurrency": ["OK"],
        "budget tags": ["OK"],
        "emr vcpus": ["OK", "OK"],
        "sagemaker training": ["OK"],
        "sagemaker endpoint": ["OK"],
        "kinesis video": ["OK"],
        "key alarms": ["OK"],
        "named roles": ["SKIP"],
        "vpc endpoints": ["SKIP"],
    }
    needs = doctor.required_bootstrap()[0]
    assert lines["cdk bootstrap"] == [f"OK CDKToolkit version 30 (this CDK needs {needs} or later)"]
    # dev: an m7g.xlarge primary and core node on demand (4 + 4), a spot task node of up to 8 vCPUs
    # that scales to three (24)
    assert lines["emr vcpus"][0].startswith(
        "OK On-Demand Standard vCPUs (L-1216C47A) is 64; the fleets need 8 to start, 8 at most"
    )
    assert (
        "Spot Standard vCPUs (L-34B43A08) is 64; the fleets need 8 to start, 24 at most"
        in lines["emr vcpus"][1]
    )
    assert lines["sagemaker training"] == ["OK 'ml.m5.large for spot training job usage' is 2 (needs 1)"]
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_a_fresh_account_names_each_problem_and_its_fix(
    connected: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    region = "eu-north-1"  # no Kinesis Video Streams there
    monkeypatch.setattr(doctor, "reserved_concurrency", lambda settings: 1)
    _, stubs = connected(region)
    stubs["lambda"].add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 10}},
    )
    stubs["quicksight"].add_client_error(
        "describe_account_subscription",
        service_error_code="ResourceNotFoundException",
        service_message="Account not found",
        http_status_code=404,
    )
    stubs["ce"].add_response("list_cost_allocation_tags", {"CostAllocationTags": []})
    _vcpu_quota(stubs["service-quotas"], "L-1216C47A", 5, applied=False)
    _vcpu_quota(stubs["service-quotas"], "L-34B43A08", 0, applied=False)
    _sagemaker_quotas(
        stubs["service-quotas"],
        [quota("ml.m5.large for spot training job usage", 0), quota(doctor.SERVERLESS_CONCURRENCY, 10)],
        [],
    )
    stubs["cloudtrail"].add_response("describe_trails", {"trailList": []})
    code, lines, err = report(capsys, "--region", region, "doctor")
    assert (code, err) == (1, "")
    assert lines["cdk bootstrap"] == [
        f"PROBLEM the account is not bootstrapped in {region}: run `npx cdk bootstrap aws://{ACCOUNT}/{region}`"
    ]
    assert lines["quicksight"] == [
        "PROBLEM the account has no QuickSight subscription: console > QuickSight > Sign up "
        "(Enterprise edition); its region becomes the identity region"
    ]
    assert lines["lambda concurrency"][0].startswith(
        "PROBLEM the frame sampler reserves 1 but only 10 of 10 is unreserved and Lambda keeps 100 unreserved"
    )
    assert (
        "'Concurrent executions' (Service Quotas > AWS Lambda, L-B99A9384)" in lines["lambda concurrency"][0]
    )
    assert lines["budget tags"] == [
        "WARN project, environment not active, so the budget sees no spend: activate them (Billing > Cost "
        "allocation tags, or `aws ce update-cost-allocation-tags-status`); project, environment appear(s) "
        "there up to 24 hours after the deploy tags resources"
    ]
    assert lines["emr vcpus"] == [
        "PROBLEM On-Demand Standard vCPUs (L-1216C47A) is 5; a feature run's cluster needs 8 to start: "
        "request more in Service Quotas > Amazon EC2 > L-1216C47A",
        "PROBLEM Spot Standard vCPUs (L-34B43A08) is 0; a feature run's cluster needs 8 to start: "
        "request more in Service Quotas > Amazon EC2 > L-34B43A08",
    ]
    assert lines["sagemaker training"] == [
        "PROBLEM 'ml.m5.large for spot training job usage' is 0, the platform needs 1: "
        "request more 'ml.m5.large for spot training job usage' in Service Quotas > Amazon SageMaker"
    ]
    assert lines["sagemaker endpoint"][0].startswith(f"OK '{doctor.SERVERLESS_CONCURRENCY}' is 10 (needs 5)")
    assert lines["kinesis video"][0].startswith(f"PROBLEM Kinesis Video Streams is not offered in {region}")
    assert lines["key alarms"] == [
        f"WARN no logging trail records management events in {region}, so a platform key disabled or "
        "scheduled for deletion raises no alarm: create a trail (CloudTrail > Trails) or an organization "
        "trail"
    ]
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def _account(connected: Any, region: str, settings: Settings) -> tuple[doctor.Account, dict[str, Stubber]]:
    deployed, stubs = connected(region)
    return doctor.Account(deployed, settings, ACCOUNT, region), stubs


def _moved(region: str) -> dict[str, Any]:
    """QuickSight's refusal of an identity call made from ``region`` when the identity region is us-east-1."""
    return {
        "service_error_code": "AccessDeniedException",
        "service_message": (
            f"Operation is being called from endpoint {region}, but your identity region is "
            "us-east-1. Please use the us-east-1 endpoint."
        ),
        "http_status_code": 401,
    }


@pytest.mark.parametrize(
    ("logging", "selectors", "level"),
    [
        (False, None, "WARN"),
        (True, {"EventSelectors": [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]}, "WARN"),
        (True, {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]}, "WARN"),
        (True, {"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}, "OK"),
        (
            True,
            {"AdvancedEventSelectors": [{"FieldSelectors": [DATA_EVENTS]}]},
            "WARN",
        ),
        (
            True,
            {
                "AdvancedEventSelectors": [
                    {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
                ]
            },
            "OK",
        ),
    ],
)
def test_key_alarms_need_a_logging_trail_of_write_management_events(
    connected: Any, logging: bool, selectors: dict[str, Any] | None, level: str
) -> None:
    account, stubs = _account(connected, MOTO_REGION, load_settings("dev"))
    _trail(stubs["cloudtrail"], logging=logging, selectors=selectors)
    (finding,) = doctor.check_trail(account)
    assert finding.level == level
    stubs["cloudtrail"].assert_no_pending_responses()


def test_named_roles_must_exist_before_the_deploy(connected: Any) -> None:
    iam = boto3.client("iam", region_name=MOTO_REGION)
    iam.create_role(RoleName="key-admins", AssumeRolePolicyDocument="{}")
    admins = [f"arn:aws:iam::{ACCOUNT}:role/key-admins", f"arn:aws:iam::{ACCOUNT}:role/ops/missing"]
    reader = f"arn:aws:iam::{ACCOUNT}:role/privacy-review"
    settings = load_settings("dev")
    readers = settings.security.personal_data_readers.model_copy(update={"frames": [reader]})
    security = settings.security.model_copy(update={"key_admins": admins, "personal_data_readers": readers})
    account, _ = _account(connected, MOTO_REGION, settings.model_copy(update={"security": security}))
    assert [str(finding) for finding in doctor.check_named_roles(account)] == [
        f"PROBLEM  named roles: arn:aws:iam::{ACCOUNT}:role/ops/missing (security.key_admins), {reader} "
        "(security.personal_data_readers.frames) not found, and KMS and S3 refuse a policy that names a "
        "missing principal: create the role(s) first, or remove them from the configuration"
    ]
    iam.create_role(RoleName="privacy-review", AssumeRolePolicyDocument="{}")
    security = security.model_copy(update={"key_admins": admins[:1]})
    account, _ = _account(connected, MOTO_REGION, settings.model_copy(update={"security": security}))
    assert [str(finding) for finding in doctor.check_named_roles(account)] == [
        "OK       named roles: 2 named role(s) exist"
    ]


def test_every_interface_endpoint_must_accept_its_policy(connected: Any) -> None:
    """prod's endpoints: one that takes only the full-access policy would fail the deploy."""
    from stacks.network_stack import interface_endpoints

    settings = load_settings("prod")
    account, _ = _account(connected, MOTO_REGION, settings)
    names = sorted(
        f"com.amazonaws.{MOTO_REGION}.{s.short_name}" for s in interface_endpoints(settings).values()
    )
    assert f"com.amazonaws.{MOTO_REGION}.ec2messages" in names and len(names) == 12
    with Stubber(account.deployed.client("ec2")) as ec2:
        for refusing in ("ec2messages", None):
            details = [
                {"ServiceName": n, "VpcEndpointPolicySupported": not n.endswith(str(refusing))} for n in names
            ]
            ec2.add_response(
                "describe_vpc_endpoint_services", {"ServiceDetails": details}, {"ServiceNames": names}
            )
        ((problem,), (ok,)) = doctor.check_endpoint_policies(account), doctor.check_endpoint_policies(account)
    assert problem.level == "PROBLEM" and problem.text.startswith(
        f"com.amazonaws.{MOTO_REGION}.ec2messages take only"
    )
    assert (ok.level, ok.text) == ("OK", "all 12 interface endpoints accept their endpoint policies")


def test_an_old_bootstrap_must_be_upgraded(connected: Any) -> None:
    _bootstrap("us-east-2", "5")
    account, _ = _account(connected, "us-east-2", load_settings("dev"))
    assert [str(finding) for finding in doctor.check_bootstrap(account)] == [
        f"PROBLEM  cdk bootstrap: version 5, this CDK needs {doctor.required_bootstrap()[0]} or later: "
        f"run `npx cdk bootstrap aws://{ACCOUNT}/us-east-2` again"
    ]


def _identity_region_account(
    connected: Any, configured: str | None
) -> tuple[doctor.Account, dict[str, Stubber]]:
    """A dev account in moto's region with ``quicksight.identity_region`` set to ``configured``."""
    settings = load_settings("dev")
    quicksight = settings.quicksight.model_copy(update={"identity_region": configured})
    return _account(connected, MOTO_REGION, settings.model_copy(update={"quicksight": quicksight}))


@pytest.mark.parametrize(("configured", "level"), [(None, "PROBLEM"), ("us-east-1", "OK")])
def test_the_quicksight_identity_region_is_found_from_another_region(
    connected: Any, configured: str | None, level: str
) -> None:
    account, stubs = _identity_region_account(connected, configured)
    stubs["quicksight"].add_client_error("describe_account_subscription", **_moved(MOTO_REGION))
    with Stubber(account.deployed.client("quicksight", "us-east-1")) as home:
        info = {"Edition": "ENTERPRISE", "AccountSubscriptionStatus": "ACCOUNT_CREATED"}
        home.add_response("describe_account_subscription", {"AccountInfo": info})
        home.add_response("describe_namespace", {"Namespace": {"CapacityRegion": "us-east-1"}})
        findings = doctor.check_quicksight(account)
    assert [finding.level for finding in findings] == ["OK", level]
    if configured is None:
        assert findings[1].text == (
            f"the identity region is us-east-1 but quicksight.identity_region is null ({MOTO_REGION}): "
            "set quicksight.identity_region: us-east-1 in config/dev.yaml"
        )


@pytest.mark.parametrize(("configured", "level"), [(None, "PROBLEM"), ("us-east-1", "OK")])
def test_the_identity_region_is_found_when_only_the_namespace_call_is_refused(
    connected: Any, configured: str | None, level: str
) -> None:
    account, stubs = _identity_region_account(connected, configured)
    info = {"Edition": "ENTERPRISE", "AccountSubscriptionStatus": "ACCOUNT_CREATED"}
    stubs["quicksight"].add_response("describe_account_subscription", {"AccountInfo": info})
    stubs["quicksight"].add_client_error("describe_namespace", **_moved(MOTO_REGION))
    with Stubber(account.deployed.client("quicksight", "us-east-1")) as home:
        home.add_response(
            "describe_namespace",
            {"Namespace": {"CapacityRegion": "us-east-1"}},
            {"AwsAccountId": ACCOUNT, "Namespace": account.settings.quicksight.namespace},
        )
        findings = doctor.check_quicksight(account)
        home.assert_no_pending_responses()
    assert [finding.level for finding in findings] == ["OK", level]
    if configured is None:
        assert findings[1].text.startswith("the identity region is us-east-1 but quicksight.identity_region")


@pytest.mark.parametrize("status", ["UNSUBSCRIBED", "SIGNUP_ATTEMPT_FAILED"])
def test_an_enterprise_subscription_not_created_is_a_problem(connected: Any, status: str) -> None:
    account, stubs = _account(connected, MOTO_REGION, load_settings("dev"))
    info = {"Edition": "ENTERPRISE", "AccountSubscriptionStatus": status}
    stubs["quicksight"].add_response("describe_account_subscription", {"AccountInfo": info})
    stubs["quicksight"].add_response("describe_namespace", {"Namespace": {"CapacityRegion": MOTO_REGION}})
    first = doctor.check_quicksight(account)[0]
    assert (first.level, first.text.split(":")[0]) == (
        "PROBLEM",
        f"the ENTERPRISE subscription is {status}, not ACCOUNT_CREATED",
    )


@pytest.mark.parametrize(
    ("instance_type", "standard"),
    [
        *[(kind, True) for kind in ("a1.large", "c7g.xlarge", "d3en.xlarge", "h1.2xlarge", "i4i.large")],
        *[(kind, True) for kind in ("im4gn.large", "m5.xlarge", "r6g.large", "t3.medium", "z1d.large")],
        *[(kind, False) for kind in ("dl1.24xlarge", "trn1.2xlarge", "inf2.xlarge", "hpc7g.4xlarge")],
        *[(kind, False) for kind in ("mac2.metal", "g5.xlarge", "p4d.24xlarge", "x2idn.16xlarge")],
    ],
)
def test_only_standard_families_count_against_the_standard_vcpu_quotas(
    instance_type: str, standard: bool
) -> None:
    """The Standard quotas cover A, C, D, H, I, M, R, T and Z; DL, HPC, Inf, Mac and Trn start with
    those letters but have quotas of their own."""
    assert bool(doctor.STANDARD_FAMILY.match(instance_type)) is standard


def test_a_refused_check_is_a_warning_that_names_the_call(connected: Any) -> None:
    account, stubs = _account(connected, MOTO_REGION, load_settings("dev"))
    stubs["lambda"].add_client_error(
        "get_account_settings", service_error_code="AccessDeniedException", service_message="not allowed"
    )
    findings = list(doctor._run("lambda concurrency", doctor.check_lambda, account))
    assert [str(finding) for finding in findings] == [
        "WARN     lambda concurrency: could not check: GetAccountSettings: AccessDeniedException: not allowed"
    ]


def test_the_bootstrap_version_is_the_one_the_templates_require(env: Synthesized) -> None:
    manifest = json.loads((env.outdir / "manifest.json").read_text())
    required = {
        (properties["requiresBootstrapStackVersion"], properties["bootstrapStackVersionSsmParameter"])
        for artifact in manifest["artifacts"].values()
        if "requiresBootstrapStackVersion" in (properties := artifact.get("properties", {}))
    }
    assert required == {doctor.required_bootstrap()}


def test_the_reserved_concurrency_is_the_templates(env: Synthesized) -> None:
    reserved = sum(
        resource["Properties"].get("ReservedConcurrentExecutions", 0)
        for stack in env.assembly.stacks
        for resource in stack.template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    )
    assert doctor.reserved_concurrency(env.settings) == reserved


def test_the_emr_units_are_the_cluster_shapes(env: Synthesized) -> None:
    assert env.platform.emr is not None
    shape, emr = env.platform.emr.shape, env.settings.emr
    clusters = 2 if emr.cluster.enabled else 1
    one_each = dict.fromkeys(
        [emr.primary_instance_type, *emr.core_instance_types, *emr.task_instance_types], 1
    )
    on_demand_tasks, spot_tasks = shape.task_start
    assert doctor.emr_vcpus(emr, one_each) == {
        "On-Demand": (
            clusters * (1 + shape.min_units + on_demand_tasks),
            clusters * (1 + shape.max_on_demand_units),
        ),
        "Spot": (clusters * spot_tasks, clusters * (shape.max_units - shape.max_on_demand_units)),
    }


def _make_deploy(*overrides: str) -> list[str]:
    dry_run = subprocess.run(
        # no directory lines, which make prints when it runs under another make (as `make test` does)
        ["make", "--no-print-directory", "-n", "deploy", *overrides],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dry_run.stdout.splitlines()


def test_make_deploy_runs_the_doctor_first_unless_told_not_to() -> None:
    commands = _make_deploy("ENV=prod")
    doctor_at = commands.index(".venv/bin/dsp doctor --env prod")
    assert doctor_at < next(i for i, line in enumerate(commands) if " synth " in line)
    assert commands[-1] == "cdk --no-notices deploy --app cdk.out --all --require-approval broadening"
    assert not [line for line in _make_deploy("DOCTOR=0") if "dsp doctor" in line]


def test_doctor_takes_the_session_options_after_the_command_too(capsys: Any) -> None:
    code, _, err = report(capsys, "doctor", "--env", "qa")
    assert (code, err) == (2, "dsp: config error: env: unknown environment 'qa'; allowed: dev, prod\n")
    args = cli.parser().parse_args(["--env", "prod", "--region", "eu-west-1", "doctor", "--env", "dev"])
    assert (args.env, args.region, args.profile) == ("dev", "eu-west-1", None)
    assert (cli.parser().parse_args(["status"]).env, cli.parser().parse_args(["status"]).region) == (
        "dev",
        None,
    )


def test_doctor_without_credentials_is_one_line(moto: str, no_credentials: None, capsys: Any) -> None:
    try:
        code = cli.main(["doctor"])
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    assert (code, captured.out) == (1, "")
    assert (
        captured.err.startswith("dsp: no AWS credentials: set AWS_PROFILE") and captured.err.count("\n") == 1
    )
