"""``dsp doctor``: what an account and region lack before ``cdk deploy`` of an environment can
succeed and its first run can finish, read-only and before anything is deployed.

Each check reads the environment's settings (which services are on, their sizes) and a few
read-only AWS calls, and prints one line per finding: ``OK``, ``WARN`` (works, but something will
bite later), ``PROBLEM`` (the deploy or the first run fails; the line says how to fix it) or
``SKIP`` (the service is off). A check AWS does not let us make is a ``WARN`` naming the refused
call. The exit code is 1 when any finding is a ``PROBLEM``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import ClientError

from config.settings import EmrSettings, Settings
from ops.platform import Deployed, OpsError, aws
from stacks import outputs

Level = Literal["OK", "WARN", "PROBLEM", "SKIP"]
ROOT = Path(__file__).resolve().parents[1]

TOOLKIT_STACK = "CDKToolkit"
DEFAULT_QUALIFIER = "hnb659fds"
"""The CDK's default bootstrap qualifier (``DefaultStackSynthesizer.DEFAULT_QUALIFIER``)."""
QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"
SYNTHESIZER_JS = "package/core/lib/stack-synthesizers/default-synthesizer.js"
"""Where aws-cdk-lib's jsii bundle defines ``MIN_BOOTSTRAP_STACK_VERSION``: the bootstrap version
every stack of the default synthesizer requires (its ``CheckBootstrapVersion`` rule)."""
HEALTHY_STACK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}

NEW_ACCOUNT_CONCURRENCY = 10
"""Lambda's concurrent executions in a new account, until AWS raises it with use."""
UNRESERVED_FLOOR = 100
"""Lambda keeps this much of the account's concurrency unreserved: a function may reserve only
what is above it."""
LAMBDA_CONCURRENCY_QUOTA = "L-B99A9384"

EC2_VCPU_QUOTAS = {"On-Demand": "L-1216C47A", "Spot": "L-34B43A08"}
"""Service Quotas codes of the vCPUs of running Standard (A, C, D, H, I, M, R, T, Z) instances:
Running On-Demand Standard instances, and All Standard Spot Instance Requests."""
STANDARD_FAMILY = re.compile(r"(?!dl|hpc|inf|mac|trn)[acdhimrtz]")
"""An instance type these quotas count: its family starts with A, C, D, H, I, M, R, T or Z, but is
none of DL, HPC, Inf, Mac or Trn, which start with those letters and have quotas of their own."""

SERVERLESS_CONCURRENCY = "Maximum total concurrency that can be allocated across all serverless endpoints"
IDENTITY_REGION = re.compile(r"identity region is ([a-z]{2}(?:-[a-z]+)+-\d)")
"""QuickSight's answer to an identity call made outside the account's identity region."""
KVS_REGIONS = "https://docs.aws.amazon.com/general/latest/gr/akv.html"


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    level: Level
    check: str
    text: str

    def __str__(self) -> str:
        return f"{self.level:<8} {self.check}: {self.text}"


@dataclass(frozen=True)
class Account:
    """What the checks read: the session's clients, the account and region, the settings."""

    deployed: Deployed
    settings: Settings
    account: str
    region: str


def required_bootstrap(cdk_json: Path = ROOT / "cdk.json") -> tuple[int, str]:
    """The bootstrap version the pinned aws-cdk-lib requires and the SSM parameter that holds the
    account's (``/cdk-bootstrap/<qualifier>/version``, the qualifier from ``cdk.json``)."""
    spec = importlib.util.find_spec("aws_cdk")
    folders = (spec.submodule_search_locations or []) if spec else []
    bundles = [
        bundle for folder in folders for bundle in Path(folder, "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    ]
    version = None
    if bundles:
        with tarfile.open(bundles[0], "r|gz") as bundle:
            for member in bundle:
                if member.name == SYNTHESIZER_JS:
                    source = bundle.extractfile(member)
                    text = source.read().decode("utf-8") if source else ""
                    found = re.search(r"MIN_BOOTSTRAP_STACK_VERSION\s*=\s*(\d+)", text)
                    version = int(found.group(1)) if found else None
                    break
    if version is None:
        raise OpsError("cannot read the bootstrap version aws-cdk-lib requires: is aws-cdk-lib installed?")
    context = json.loads(cdk_json.read_text()).get("context", {}) if cdk_json.is_file() else {}
    return version, f"/cdk-bootstrap/{context.get(QUALIFIER_CONTEXT, DEFAULT_QUALIFIER)}/version"


def reserved_concurrency(settings: Settings) -> int:
    """Lambda concurrency the platform's functions reserve: the frame sampler's
    ``video.sampler.reserved_concurrency`` when video is on (null: none)."""
    if not settings.video.enabled:
        return 0
    return settings.video.sampler.reserved_concurrency or 0


def emr_vcpus(emr: EmrSettings, vcpus: dict[str, int]) -> dict[str, tuple[int, int]]:
    """vCPUs the EMR fleets need per market, (to start, at most): a transient run's cluster, and
    the long-running one beside it when on. A unit is one instance (weighted capacity 1), counted
    at the largest type a fleet may pick; the core fleet and primary run on demand, the task fleet
    starts with one node (spot when it has a spot share) and scales to ``max_units``."""
    core = max(vcpus[name] for name in emr.core_instance_types)
    task = max((vcpus[name] for name in emr.task_instance_types), default=0)
    low, high = emr.cluster.min_units, emr.cluster.max_units
    on_demand_tasks = math.ceil((high - low) * (100 - emr.task_spot_percent) / 100)
    first_spot = 1 if emr.task_spot_percent > 0 else 0
    base = vcpus[emr.primary_instance_type] + low * core
    clusters = 2 if emr.cluster.enabled else 1
    need = {
        "On-Demand": (base + (1 - first_spot) * task, base + on_demand_tasks * task),
        "Spot": (first_spot * task, (high - low - on_demand_tasks) * task),
    }
    return {market: (start * clusters, most * clusters) for market, (start, most) in need.items()}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def check_bootstrap(account: Account) -> list[Finding]:
    """The CDK bootstrap stack exists and its version is at least what the pinned CDK requires."""
    name = "cdk bootstrap"
    fix = f"run `npx cdk bootstrap aws://{account.account}/{account.region}`"
    required, parameter = required_bootstrap()
    try:
        stacks = account.deployed.client("cloudformation").describe_stacks(StackName=TOOLKIT_STACK)
    except ClientError as error:
        if "does not exist" not in _message(error):
            raise
        return [Finding("PROBLEM", name, f"the account is not bootstrapped in {account.region}: {fix}")]
    status = stacks["Stacks"][0]["StackStatus"]
    if status not in HEALTHY_STACK:
        return [Finding("PROBLEM", name, f"stack {TOOLKIT_STACK} is {status}: fix or delete it, then {fix}")]
    try:
        value = account.deployed.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as error:
        if _code(error) != "ParameterNotFound":
            raise
        return [Finding("PROBLEM", name, f"no parameter {parameter} (another qualifier?): {fix}")]
    version = int(value) if str(value).isdigit() else 0
    if version < required:
        return [Finding("PROBLEM", name, f"version {value}, this CDK needs {required} or later: {fix} again")]
    return [Finding("OK", name, f"{TOOLKIT_STACK} version {version} (this CDK needs {required} or later)")]


def _in_identity_region(
    account: Account, quicksight: Any, call: Callable[[Any], dict[str, Any]]
) -> tuple[Any, dict[str, Any]]:
    """``call(quicksight)``; if QuickSight refuses it because the account's identity region is
    another (:data:`IDENTITY_REGION` in the message), ``call`` again on a client there. Returns the
    client that answered and its answer."""
    try:
        return quicksight, call(quicksight)
    except ClientError as error:
        moved = IDENTITY_REGION.search(_message(error))
        if not moved or moved.group(1) == quicksight.meta.region_name:
            raise
    home = account.deployed.client("quicksight", moved.group(1))
    return home, call(home)


def check_quicksight(account: Account) -> list[Finding]:
    """A QuickSight Enterprise subscription, and its identity region where the config expects it."""
    name = "quicksight"
    config = account.settings.quicksight
    if not config.enabled:
        return [Finding("SKIP", name, "quicksight.enabled is false")]
    quicksight = account.deployed.client("quicksight")
    try:
        quicksight, answer = _in_identity_region(
            account,
            quicksight,
            lambda client: client.describe_account_subscription(AwsAccountId=account.account),
        )
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        return [
            Finding(
                "PROBLEM",
                name,
                "the account has no QuickSight subscription: console > QuickSight > Sign up "
                "(Enterprise edition); its region becomes the identity region",
            )
        ]
    findings = []
    info = answer["AccountInfo"]
    edition, status = info.get("Edition", "?"), info.get("AccountSubscriptionStatus", "?")
    if edition not in ("ENTERPRISE", "ENTERPRISE_AND_Q"):
        fix = "upgrade to Enterprise edition (console > QuickSight > Manage account): groups need it"
        findings.append(Finding("PROBLEM", name, f"the subscription is {edition}: {fix}"))
    elif status != "ACCOUNT_CREATED":
        fix = "the platform's QuickSight groups need a created account: sign up again (console > QuickSight)"
        text = f"the {edition} subscription is {status}, not ACCOUNT_CREATED: {fix}"
        findings.append(Finding("PROBLEM", name, text))
    else:
        findings.append(Finding("OK", name, f"{edition} subscription"))
    try:
        quicksight, namespace = _in_identity_region(
            account,
            quicksight,
            lambda client: client.describe_namespace(
                AwsAccountId=account.account, Namespace=config.namespace
            ),
        )
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        fix = f"create it (`aws quicksight create-namespace --namespace {config.namespace}`) or set another"
        return [*findings, Finding("PROBLEM", name, f"no namespace {config.namespace!r}: {fix}")]
    identity = namespace["Namespace"].get("CapacityRegion") or quicksight.meta.region_name
    expected = config.identity_region or account.region
    if identity != expected:
        key = "quicksight.identity_region"
        setting = f"{key} is {config.identity_region}" if config.identity_region else f"{key} is null"
        fix = f"set {key}: {identity} in config/{account.settings.environment}.yaml"
        findings.append(
            Finding("PROBLEM", name, f"the identity region is {identity} but {setting} ({expected}): {fix}")
        )
    else:
        findings.append(Finding("OK", name, f"identity region {identity}, as configured"))
    return findings


def check_lambda(account: Account) -> list[Finding]:
    """Lambda concurrency: room for what the platform reserves, and more than a new account's 10."""
    name = "lambda concurrency"
    limit = account.deployed.client("lambda").get_account_settings()["AccountLimit"]
    total, unreserved = limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]
    reserved = reserved_concurrency(account.settings)
    raise_it = (
        f"request more 'Concurrent executions' (Service Quotas > AWS Lambda, {LAMBDA_CONCURRENCY_QUOTA})"
    )
    if reserved and unreserved - reserved < UNRESERVED_FLOOR:
        text = (
            f"the frame sampler reserves {reserved} but only {unreserved} of {total} is unreserved and "
            f"Lambda keeps {UNRESERVED_FLOOR} unreserved, so the video stack fails: {raise_it}, "
            "or run the sampler without reserved concurrency"
        )
        return [Finding("PROBLEM", name, text)]
    if total <= NEW_ACCOUNT_CONCURRENCY:
        text = f"{total} concurrent executions, a new account's quota: functions throttle early; {raise_it}"
        return [Finding("WARN", name, text)]
    return [Finding("OK", name, f"{unreserved} of {total} unreserved; the platform reserves {reserved}")]


def check_budget_tags(account: Account) -> list[Finding]:
    """The tag keys the budget filters on are active cost-allocation tags."""
    name = "budget tags"
    if not account.settings.budget.enabled:
        return [Finding("SKIP", name, "budget.enabled is false")]
    keys = list(outputs.BUDGET_TAGS)
    try:
        tags = account.deployed.client("ce").list_cost_allocation_tags(TagKeys=keys)["CostAllocationTags"]
    except ClientError as error:
        if _code(error) != "AccessDeniedException":
            raise
        text = (
            f"cannot read cost-allocation tags ({_message(error)}): "
            "in an organization, check them in its management account"
        )
        return [Finding("WARN", name, text)]
    status = {tag["TagKey"]: tag["Status"] for tag in tags}
    inactive = [key for key in keys if status.get(key) != "Active"]
    if not inactive:
        return [Finding("OK", name, f"{', '.join(keys)} are active cost-allocation tags")]
    unseen = [key for key in inactive if key not in status]
    text = (
        f"{', '.join(inactive)} not active, so the budget sees no spend: activate them (Billing > Cost "
        "allocation tags, or `aws ce update-cost-allocation-tags-status`)"
        + (
            f"; {', '.join(unseen)} appear(s) there up to 24 hours after the deploy tags resources"
            if unseen
            else ""
        )
    )
    return [Finding("WARN", name, text)]


def _quota(quotas: Any, service: str, code: str) -> float:
    """The applied value of a quota, else its default."""
    try:
        return float(quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])
    except ClientError as error:
        if _code(error) != "NoSuchResourceException":
            raise
    return float(quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])


def check_emr_vcpus(account: Account) -> list[Finding]:
    """The EC2 vCPU quotas (On-Demand and Spot Standard) hold the EMR fleets."""
    name = "emr vcpus"
    emr = account.settings.emr
    if not emr.enabled:
        return [Finding("SKIP", name, "emr.enabled is false")]
    types = sorted({emr.primary_instance_type, *emr.core_instance_types, *emr.task_instance_types})
    others = [kind for kind in types if not STANDARD_FAMILY.match(kind)]
    ec2 = account.deployed.client("ec2")
    try:
        described = ec2.describe_instance_types(InstanceTypes=types)["InstanceTypes"]
    except ClientError as error:
        if _code(error) != "InvalidInstanceType":
            raise
        return [
            Finding(
                "PROBLEM", name, f"{_message(error)}: pick types offered in {account.region} (emr.*_types)"
            )
        ]
    vcpus = {kind["InstanceType"]: kind["VCpuInfo"]["DefaultVCpus"] for kind in described}
    quotas = account.deployed.client("service-quotas")
    findings = []
    for market, (start, most) in emr_vcpus(emr, vcpus).items():
        if not most:
            continue
        quota = _quota(quotas, "ec2", EC2_VCPU_QUOTAS[market])
        where = f"{market} Standard vCPUs ({EC2_VCPU_QUOTAS[market]}) is {quota:g}"
        fix = f"request more in Service Quotas > Amazon EC2 > {EC2_VCPU_QUOTAS[market]}"
        if quota < start:
            text = f"{where}; a feature run's cluster needs {start} to start: {fix}"
            findings.append(Finding("PROBLEM", name, text))
        elif quota < most:
            text = f"{where}; the fleets scale to {most}, so scaling stops early: {fix}"
            findings.append(Finding("WARN", name, text))
        else:
            text = f"{where}; the fleets need {start} to start, {most} at most (running instances count too)"
            findings.append(Finding("OK", name, text))
    if others:
        findings.append(Finding("WARN", name, f"{', '.join(others)} not in a Standard family: not checked"))
    return findings


def _sagemaker_quotas(account: Account) -> dict[str, float]:
    """SageMaker's quotas in the region by name: the defaults, overlaid with the applied values."""
    quotas = account.deployed.client("service-quotas")
    pages = [
        *quotas.get_paginator("list_aws_default_service_quotas").paginate(ServiceCode="sagemaker"),
        *quotas.get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker"),
    ]
    return {quota["QuotaName"]: float(quota["Value"]) for page in pages for quota in page.get("Quotas", [])}


def _instances(check: str, quotas: dict[str, float], quota: str, need: int, most: int) -> Finding:
    """A finding for an instance quota: PROBLEM below ``need``, WARN below ``most``."""
    fix = f"request more '{quota}' in Service Quotas > Amazon SageMaker"
    if quota not in quotas:
        return Finding("WARN", check, f"no quota '{quota}' in this region: is the type offered here?")
    value = quotas[quota]
    if value < need:
        return Finding("PROBLEM", check, f"'{quota}' is {value:g}, the platform needs {need}: {fix}")
    if value < most:
        return Finding("WARN", check, f"'{quota}' is {value:g}, auto scaling goes to {most}: {fix}")
    return Finding("OK", check, f"'{quota}' is {value:g} (needs {need})")


def check_sagemaker(account: Account) -> list[Finding]:
    """SageMaker quotas: one training instance of the type (spot or on demand), and the endpoint's
    instances or serverless concurrency."""
    config = account.settings.sagemaker
    if not config.enabled:
        return [Finding("SKIP", "sagemaker", "sagemaker.enabled is false")]
    quotas = _sagemaker_quotas(account)
    training = config.training
    usage = "spot training job usage" if training.spot else "training job usage"
    findings = [_instances("sagemaker training", quotas, f"{training.instance_type} for {usage}", 1, 1)]
    endpoint = config.endpoint
    if endpoint.instances:
        kind = endpoint.instances
        quota = f"{kind.instance_type} for endpoint usage"
        findings.append(
            _instances("sagemaker endpoint", quotas, quota, kind.min_instances, kind.max_instances)
        )
    elif endpoint.serverless:
        concurrency = endpoint.serverless.max_concurrency
        findings.append(
            _instances("sagemaker endpoint", quotas, SERVERLESS_CONCURRENCY, concurrency, concurrency)
        )
    return findings


def check_video(account: Account) -> list[Finding]:
    """Kinesis Video Streams answers in the region."""
    name = "kinesis video"
    if not account.settings.video.enabled:
        return [Finding("SKIP", name, "video.enabled is false")]
    if account.region not in account.deployed.offered_in("kinesisvideo"):
        text = (
            f"Kinesis Video Streams is not offered in {account.region} ({KVS_REGIONS}): "
            "set video.enabled: false or deploy to another region"
        )
        return [Finding("PROBLEM", name, text)]
    account.deployed.client("kinesisvideo").list_streams(MaxResults=1)
    return [Finding("OK", name, f"Kinesis Video Streams answers in {account.region}")]


def _records_management_writes(selectors: dict[str, Any]) -> bool:
    """Whether a trail's event selectors (basic, advanced or none: all management events) take in
    management events that write, such as ``ScheduleKeyDeletion``."""
    if advanced := selectors.get("AdvancedEventSelectors"):
        return any(
            {"Field": "eventCategory", "Equals": ["Management"]} in s["FieldSelectors"]
            and {"Field": "readOnly", "Equals": ["true"]} not in s["FieldSelectors"]
            for s in advanced
        )
    basic = selectors.get("EventSelectors") or [{}]
    return any(
        s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") != "ReadOnly" for s in basic
    )


def check_trail(account: Account) -> list[Finding]:
    """A logging trail records this region's management events: the key alarms are made of them."""
    name = "key alarms"
    cloudtrail = account.deployed.client("cloudtrail")
    for trail in cloudtrail.describe_trails(includeShadowTrails=True)["trailList"]:
        if not (trail.get("IsMultiRegionTrail") or trail.get("HomeRegion") == account.region):
            continue
        arn = trail["TrailARN"]
        if cloudtrail.get_trail_status(Name=arn)["IsLogging"] and _records_management_writes(
            cloudtrail.get_event_selectors(TrailName=arn)
        ):
            return [Finding("OK", name, f"trail {trail['Name']} records management events")]
    text = (
        f"no logging trail records management events in {account.region}, so a platform key disabled "
        "or scheduled for deletion raises no alarm: create a trail (CloudTrail > Trails) or an "
        "organization trail"
    )
    return [Finding("WARN", name, text)]


def check_named_roles(account: Account) -> list[Finding]:
    """Every role the configuration names in a key or bucket policy exists (``security.key_admins``
    and ``security.personal_data_readers``): KMS and S3 refuse a policy naming a missing principal."""
    name = "named roles"
    security = account.settings.security
    named = {
        "security.key_admins": security.key_admins,
        **{
            f"security.personal_data_readers.{data_class}": roles
            for data_class, roles in security.personal_data_readers.model_dump().items()
        },
    }
    if not any(named.values()):
        return [
            Finding(
                "SKIP", name, "no key admins or personal data readers: the deploying role administers keys"
            )
        ]
    iam = account.deployed.client("iam")
    missing = []
    for field, roles in named.items():
        for role in roles:
            try:
                iam.get_role(RoleName=role.rsplit("/", 1)[1])
            except ClientError as error:
                if _code(error) != "NoSuchEntity":
                    raise
                missing.append(f"{role} ({field})")
    if missing:
        text = (
            f"{', '.join(missing)} not found, and KMS and S3 refuse a policy that names a missing principal: "
            "create the role(s) first, or remove them from the configuration"
        )
        return [Finding("PROBLEM", name, text)]
    return [Finding("OK", name, f"{sum(map(len, named.values()))} named role(s) exist")]


def check_endpoint_policies(account: Account) -> list[Finding]:
    """Every interface endpoint the platform creates is offered in the region and accepts the
    endpoint policy it gets (a service that takes only the full-access policy fails the deploy)."""
    name = "vpc endpoints"
    if not account.settings.network.interface_endpoints:
        return [Finding("SKIP", name, "network.interface_endpoints is false")]
    from stacks.network_stack import interface_endpoints  # the CDK, only when there are endpoints

    wanted = sorted(
        f"com.amazonaws.{account.region}.{service.short_name}"
        for service in interface_endpoints(account.settings).values()
    )
    try:
        details = account.deployed.client("ec2").describe_vpc_endpoint_services(ServiceNames=wanted)
    except ClientError as error:
        if _code(error) != "InvalidServiceName":
            raise
        return [Finding("PROBLEM", name, f"{_message(error)}: not offered in {account.region}")]
    supported = {
        d["ServiceName"]: d.get("VpcEndpointPolicySupported", False) for d in details["ServiceDetails"]
    }
    refusing = [service for service in wanted if not supported.get(service, False)]
    if refusing:
        text = (
            f"{', '.join(refusing)} take only the full-access endpoint policy in {account.region}, and "
            "the platform gives each endpoint one: the deploy fails (leave those out of the policies in "
            "platform_constructs/network.py, or turn off the services that need them)"
        )
        return [Finding("PROBLEM", name, text)]
    return [Finding("OK", name, f"all {len(wanted)} interface endpoints accept their endpoint policies")]


CHECKS: dict[str, Callable[[Account], list[Finding]]] = {
    "cdk bootstrap": check_bootstrap,
    "quicksight": check_quicksight,
    "lambda concurrency": check_lambda,
    "budget tags": check_budget_tags,
    "emr vcpus": check_emr_vcpus,
    "sagemaker": check_sagemaker,
    "kinesis video": check_video,
    "key alarms": check_trail,
    "named roles": check_named_roles,
    "vpc endpoints": check_endpoint_policies,
}
"""Every check, in the order of the report."""


def _run(name: str, check: Callable[[Account], list[Finding]], account: Account) -> Iterable[Finding]:
    """The check's findings; an AWS error it did not expect becomes a WARN naming the call."""
    try:
        return aws(check, account)
    except OpsError as error:
        return [Finding("WARN", name, f"could not check: {error}")]


def doctor(deployed: Deployed, settings: Settings) -> int:
    """Print every finding for the environment's account and region; 1 when one is a PROBLEM."""
    identity = aws(deployed.client("sts").get_caller_identity)
    account = Account(deployed, settings, identity["Account"], deployed.region)
    print(f"{settings.name_prefix} in account {account.account}, region {account.region}:")
    problems = 0
    for name, check in CHECKS.items():
        for finding in _run(name, check, account):
            print(finding)
            problems += finding.level == "PROBLEM"
    if problems:
        print(f"{problems} problem(s) stop the deploy or the first run: fix them, then run dsp doctor again")
        return 1
    print("nothing blocks the deploy")
    return 0
