"""The Glue service role: a lake access role that also writes Glue's encrypted logs."""

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from platform_constructs.glue.encryption import GLUE_LOG_GROUPS
from platform_constructs.lake_access import LakeAccessRole


class GlueRole(LakeAccessRole):
    """A :class:`LakeAccessRole` only Glue in this account can assume; ``write_encrypted_logs``
    lets it write Glue's KMS-encrypted log groups and job bookmarks."""

    def __init__(self, scope: Construct, construct_id: str, *, description: str) -> None:
        """:param description: what the role does."""
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}}
            ),
            description=description,
        )

    def write_encrypted_logs(self, key: kms.IKey) -> None:
        """Create Glue's log groups and streams, associate ``key`` with them, put events with it;
        encrypt and decrypt job bookmarks with it."""
        log_groups = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=GLUE_LOG_GROUPS,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        streams = f"{log_groups}:log-stream:*"
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[log_groups, streams],
            )
        )
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
            )
        )
        self.wildcard_resources += [log_groups, streams]

    def acknowledge_wildcards(self, reason: str, *, resources: Sequence[str] = ()) -> None:
        """As :meth:`LakeAccessRole.acknowledge_wildcards`, naming Glue's log groups in the reason."""
        super().acknowledge_wildcards(
            f"{reason} Glue's own /aws-glue/* log groups, whose names Glue derives at run time.",
            resources=resources,
        )
