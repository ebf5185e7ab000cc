"""The Studio execution roles: what a data scientist, and a lead, may do from a notebook."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from platform_constructs.athena import AthenaWorkgroup
from platform_constructs.lake_access import LakeAccessRole
from platform_constructs.sagemaker.roles import sagemaker_arn, sagemaker_principal

STUDIO_READ_ACTIONS = (
    "sagemaker:DescribeDomain",
    "sagemaker:DescribeUserProfile",
    "sagemaker:DescribeSpace",
    "sagemaker:DescribeApp",
)
"""What the Studio UI reads about the user's domain, profile, spaces and apps (execution role)."""
STUDIO_LIST_ACTIONS = (
    "sagemaker:ListApps",
    "sagemaker:ListDomains",
    "sagemaker:ListUserProfiles",
    "sagemaker:ListSpaces",
)
"""What the Studio UI lists; these take no resource."""
REGISTRY_READ_ACTIONS = ("sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup")
APPROVE_ACTIONS = ("sagemaker:UpdateModelPackage",)
"""What a lead adds: approving or rejecting a registered model (prod's manual gate)."""
TRAINING_ACTIONS = ("states:StartExecution",)
FOLLOW_ACTIONS = ("states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution")
OWN_PROFILE = "${sagemaker:DomainId}/${sagemaker:UserProfileName}"
"""The signed-in user's profile, as IAM policy variables (AWS's Studio admin guide uses them)."""


@dataclass(frozen=True)
class StudioWork:
    """What a notebook works with: the lake zones it reads (bucket and key pattern), its sandbox
    (bucket and prefix it may write), the Athena workgroup and catalog databases it queries, the
    training state machine it may start, the model package group it reads, the endpoint it may
    invoke, and the notebooks asset its apps download."""

    reads: Sequence[tuple[s3.IBucket, str]]
    sandbox: tuple[s3.IBucket, str]
    athena: AthenaWorkgroup
    databases: Sequence[str]
    training: sfn.StateMachine
    package_group: str
    endpoint: str
    notebooks: s3_assets.Asset


class StudioRole(LakeAccessRole):
    """An execution role of Studio users: only SageMaker of this account may assume it. It names
    every action: Athena on the platform workgroup (:meth:`AthenaWorkgroup.grant_query`), reading
    ``work.reads``, writing its sandbox, starting (never defining) the training state machine and
    following its runs, reading the model registry group, invoking the endpoint, reading the
    notebooks and, once :meth:`use_domain` names the domain, the Studio UI's own calls there (apps
    only in private spaces, on the allowed instance types). With ``approves``, it may also approve
    or reject model packages (a lead)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        work: StudioWork,
        approves: bool,
    ) -> None:
        """
        :param description: who assumes it.
        :param work: what its notebooks work with.
        :param approves: whether it may approve or reject model packages.
        """
        super().__init__(
            scope,
            construct_id,
            assumed_by=sagemaker_principal(scope),
            description=description,
        )
        stack = Stack.of(self)
        for bucket, pattern in work.reads:
            self.read(bucket, pattern)
        sandbox, prefix = work.sandbox
        self.read_write(sandbox, f"{prefix}*")
        work.athena.grant_query(self, databases=work.databases)  # with the results' (the lake) key
        self.read_asset(work.notebooks)
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{work.training.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        statements: list[tuple[Sequence[str], list[str], dict[str, Any] | None]] = [
            (TRAINING_ACTIONS, [work.training.state_machine_arn], None),
            (("states:ListExecutions",), [work.training.state_machine_arn], None),
            (FOLLOW_ACTIONS, [executions], None),
            (
                REGISTRY_READ_ACTIONS,
                [
                    sagemaker_arn(self, "model-package-group", work.package_group),
                    sagemaker_arn(self, "model-package", f"{work.package_group}/*"),
                ],
                None,
            ),
            (("sagemaker:ListModelPackages", "sagemaker:ListModelPackageGroups"), ["*"], None),
            (("sagemaker:InvokeEndpoint",), [sagemaker_arn(self, "endpoint", work.endpoint)], None),
        ]
        if approves:
            statements.append(
                (APPROVE_ACTIONS, [sagemaker_arn(self, "model-package", f"{work.package_group}/*")], None)
            )
        self._add(statements)

    def use_domain(self, domain_id: str, instance_types: Sequence[str]) -> None:
        """Let the Studio UI work in ``domain_id`` as this role: read its domain, profiles, spaces
        and apps, start and stop apps only in the signed-in user's own private spaces (on
        ``instance_types`` only), and tag what Studio creates. Users sharing the role never reach
        each other's spaces: the condition names the caller's profile by policy variables. Call
        once, after every other grant: it acknowledges the role's wildcards."""
        own_profile = sagemaker_arn(self, "user-profile", OWN_PROFILE)
        self._add(
            [
                (
                    STUDIO_READ_ACTIONS,
                    [
                        sagemaker_arn(self, "domain", domain_id),
                        sagemaker_arn(self, "user-profile", f"{domain_id}/*"),
                        sagemaker_arn(self, "space", f"{domain_id}/*"),
                        sagemaker_arn(self, "app", f"{domain_id}/*"),
                    ],
                    None,
                ),
                (STUDIO_LIST_ACTIONS, ["*"], None),
                (
                    ("sagemaker:CreateApp",),
                    [sagemaker_arn(self, "app", f"{domain_id}/*")],
                    {
                        "StringEquals": {"sagemaker:SpaceSharingType": "Private"},
                        "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(instance_types)},
                        "ArnLike": {"sagemaker:OwnerUserProfileArn": own_profile},
                    },
                ),
                (
                    ("sagemaker:DeleteApp",),
                    [sagemaker_arn(self, "app", f"{domain_id}/*")],
                    {"ArnLike": {"sagemaker:OwnerUserProfileArn": own_profile}},
                ),
                (("sagemaker:CreatePresignedDomainUrl",), [own_profile], None),  # opening a space
                (
                    ("sagemaker:AddTags",),  # Studio tags what it creates, and only then
                    [
                        sagemaker_arn(self, "app", f"{domain_id}/*"),
                        sagemaker_arn(self, "space", f"{domain_id}/*"),
                    ],
                    {"Null": {"sagemaker:TaggingAction": "false"}},
                ),
            ]
        )
        self.acknowledge_wildcards(
            "The lake zones a notebook reads and its sandbox, which grow with the lake; the query "
            "results and catalog tables of the platform; the training runs it starts; the packages of "
            "the one model group; the apps, spaces and profiles of the one Studio domain; the Studio "
            "UI's and the registry's list actions, which take no resource.",
            resources=["*"],
        )

    def _add(self, statements: list[tuple[Sequence[str], list[str], dict[str, Any] | None]]) -> None:
        """Add each (actions, resources, conditions) statement, recording its wildcard resources."""
        for actions, resources, conditions in statements:
            self.add_to_principal_policy(
                iam.PolicyStatement(actions=list(actions), resources=resources, conditions=conditions)
            )
            self.wildcard_resources += [resource for resource in resources if "*" in resource]
