"""QuickSight groups and the actions owners and viewers get on each kind of QuickSight resource."""

from collections.abc import Sequence

from aws_cdk import Aws, CfnResource
from aws_cdk import aws_quicksight as quicksight
from constructs import Construct

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
    """The QuickSight groups of ``owners`` (authors) and ``viewers`` in ``namespace``, addressed in
    ``identity_region`` (the QuickSight identity region of the account; default: the stack's). With
    ``create`` (the identity region is the stack's), the stack creates the groups
    (``AWS::QuickSight::Group``); otherwise they must already exist there. ``grant(resource, kind)``
    gives each owner group the owner actions on a resource and, on a dashboard, each viewer group
    the viewer actions. Exposes ``groups``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        owners: Sequence[str],
        viewers: Sequence[str],
        namespace: str,
        identity_region: str | None,
        create: bool,
    ) -> None:
        """
        :param owners: groups that may change and share the resources.
        :param viewers: groups that may only use them.
        :param namespace: the QuickSight namespace of the groups.
        :param identity_region: region of the account's QuickSight identities; None: the stack's.
        :param create: create the groups (only possible in the stack's own region).
        """
        super().__init__(scope, construct_id)
        self._roles = {**{group: "owner" for group in owners}, **{group: "viewer" for group in viewers}}
        region = identity_region or Aws.REGION
        self._arn = f"arn:{Aws.PARTITION}:quicksight:{region}:{Aws.ACCOUNT_ID}:group/{namespace}/"
        self.groups: list[quicksight.CfnGroup] = []
        if create:
            self.groups = [
                quicksight.CfnGroup(
                    self,
                    f"{role.title()}{index}",
                    group_name=group,
                    namespace=namespace,
                    description=f"Data science platform BI {role}s",
                )
                for index, (group, role) in enumerate(self._roles.items())
            ]

    def grant(self, resource: CfnResource, kind: str) -> None:
        """Set the ``Permissions`` of ``resource``, a ``kind`` resource (``data_source``, ``data_set``
        or ``dashboard``): each owner group the owner actions, each viewer group the viewer actions;
        and create it after the groups it names."""
        permissions = [
            {"Principal": self._arn + group, "Actions": actions(kind, role)}
            for group, role in self._roles.items()
            if role == "owner" or kind in VIEWED
        ]
        resource.add_property_override("Permissions", permissions)
        for group in self.groups:
            resource.node.add_dependency(group)
