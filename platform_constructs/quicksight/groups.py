"""QuickSight groups and the actions owners and viewers get on each kind of QuickSight resource."""

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Aws, CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from platform_constructs.lambda_functions import acknowledge_custom_resource_function
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards

PROVIDER = cr.AwsCustomResource.PROVIDER_FUNCTION_UUID
"""The function CDK shares between a stack's SDK-call custom resources."""

ACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "data_source": {
        "viewer": ("DescribeDataSource", "DescribeDataSourcePermissions", "PassDataSource"),
        "owner": ("UpdateDataSource", "DeleteDataSource", "UpdateDataSourcePermissions"),
    },
    "data_set": {
        "viewer": (
            "DescribeDataSet",
            "DescribeDataSetPermissions",
            "PassDataSet",
            "DescribeIngestion",
            "ListIngestions",
        ),
        "owner": (
            "UpdateDataSet",
            "DeleteDataSet",
            "CreateIngestion",
            "CancelIngestion",
            "UpdateDataSetPermissions",
            "CreateRefreshSchedule",
            "UpdateRefreshSchedule",
            "DeleteRefreshSchedule",
            "DescribeRefreshSchedule",
            "ListRefreshSchedules",
            "PutDataSetRefreshProperties",
            "DescribeDataSetRefreshProperties",
            "DeleteDataSetRefreshProperties",
        ),
    },
    "dashboard": {
        "viewer": ("DescribeDashboard", "ListDashboardVersions", "QueryDashboard"),
        "owner": (
            "UpdateDashboard",
            "DeleteDashboard",
            "DescribeDashboardPermissions",
            "UpdateDashboardPermissions",
            "UpdateDashboardPublishedVersion",
        ),
    },
}
"""QuickSight actions per resource kind: a viewer's, and what an owner has on top of them. Viewer
groups get only the dashboard's: viewing a dashboard needs no right on its datasets, and passing
the data source would let them query the lake as its role."""
VIEWED = ("dashboard",)
"""The kinds of resource viewer groups are granted."""


def actions(kind: str, role: str) -> list[str]:
    """The ``quicksight:`` actions ``role`` (``owner`` or ``viewer``) gets on a ``kind`` resource."""
    granted = ACTIONS[kind]["viewer"] + (ACTIONS[kind]["owner"] if role == "owner" else ())
    return [f"quicksight:{action}" for action in granted]


class QuickSightGroups(Construct):
    """The QuickSight groups of ``owners`` (authors) and ``viewers`` in ``namespace``, created in
    ``identity_region`` (the QuickSight identity region of the account; default: the stack's) by a
    custom resource per group that calls QuickSight ``CreateGroup`` there (``DeleteGroup`` on
    delete). ``AWS::QuickSight::Group`` exists in CloudFormation in us-east-1 only, and QuickSight
    keeps users and groups in the identity region whatever region the stack is in. A group that
    already exists is adopted (``ResourceExistsException`` ignored), so it is deleted with the
    stack too; a renamed group is created under its new name and the old one deleted. The calls'
    function may create and delete exactly these groups; its logs are encrypted with ``logs_key``
    and kept ``log_retention``. ``grant(resource, kind)`` gives each owner group the owner actions
    on a resource and, on a dashboard, each viewer group the viewer actions. Exposes ``groups``
    (one custom resource per group) and ``arns`` (group name -> ARN)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        owners: Sequence[str],
        viewers: Sequence[str],
        namespace: str,
        identity_region: str | None,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param owners: groups that may change and share the resources.
        :param viewers: groups that may only use them.
        :param namespace: the QuickSight namespace of the groups.
        :param identity_region: region of the account's QuickSight identities; None: the stack's.
        :param logs_key: encrypts the log group of the function that makes the calls.
        :param log_retention: how long its logs are kept.
        :param removal_policy: of that log group; default RETAIN.
        """
        super().__init__(scope, construct_id)
        self._roles = {**{group: "owner" for group in owners}, **{group: "viewer" for group in viewers}}
        region = identity_region or Aws.REGION
        prefix = f"arn:{Aws.PARTITION}:quicksight:{region}:{Aws.ACCOUNT_ID}:group/{namespace}/"
        self.arns = {group: prefix + group for group in self._roles}
        log_group = logs.LogGroup(
            self, "Logs", encryption_key=logs_key, retention=log_retention, removal_policy=removal_policy
        )
        caller = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Creates and deletes the platform's QuickSight groups",
        )
        caller.add_to_policy(
            iam.PolicyStatement(
                actions=["quicksight:CreateGroup", "quicksight:DeleteGroup"],
                resources=list(self.arns.values()),
            )
        )
        log_group.grant_write(caller)
        acknowledge_wildcards(
            caller,
            reason="The log streams of its own log group, which Lambda names at run time.",
            resources=[log_group.log_group_arn],
        )
        acknowledge_own_policy(caller, "The function's own role: two actions on the named groups, its logs.")
        self.groups: list[cr.AwsCustomResource] = []
        for index, (group, role) in enumerate(self._roles.items()):
            names = {"AwsAccountId": Aws.ACCOUNT_ID, "Namespace": namespace, "GroupName": group}
            create = cr.AwsSdkCall(
                service="QuickSight",
                action="CreateGroup",
                parameters={**names, "Description": f"Data science platform BI {role}s"},
                region=identity_region,
                physical_resource_id=cr.PhysicalResourceId.of(f"{region}/{namespace}/{group}"),
                ignore_error_codes_matching="ResourceExistsException",
            )
            self.groups.append(
                cr.AwsCustomResource(
                    self,
                    f"{role.title()}{index}",
                    resource_type="Custom::QuickSightGroup",
                    on_create=create,
                    on_update=create,
                    on_delete=cr.AwsSdkCall(
                        service="QuickSight",
                        action="DeleteGroup",
                        parameters=names,
                        region=identity_region,
                        ignore_error_codes_matching="ResourceNotFoundException",
                    ),
                    role=caller,
                    install_latest_aws_sdk=False,
                    log_group=log_group,
                )
            )

        function = Stack.of(self).node.find_child("AWS" + PROVIDER.replace("-", ""))
        acknowledge_custom_resource_function(
            function,
            Acknowledgment(
                id="NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
                reason="It calls the QuickSight control plane only, possibly in another region, "
                "over TLS from Lambda's network; dev's private subnets have no route to it.",
            ),
        )

    def grant(self, resource: CfnResource, kind: str) -> None:
        """Set the ``Permissions`` of ``resource``, a ``kind`` resource (``data_source``, ``data_set``
        or ``dashboard``): each owner group the owner actions, each viewer group the viewer actions;
        and create it after the groups it names."""
        permissions = [
            {"Principal": self.arns[group], "Actions": actions(kind, role)}
            for group, role in self._roles.items()
            if role == "owner" or kind in VIEWED
        ]
        resource.add_property_override("Permissions", permissions)
        for group in self.groups:
            resource.node.add_dependency(group)
