"""The roles every EMR cluster of the platform runs with: the service role and the instance profile."""

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from platform_constructs.lake_access import LakeAccessRole
from platform_constructs.nag import acknowledge_own_policy
from workloads.schema import RAW_STORES

EMR_MANAGED_TAG = ("for-use-with-amazon-emr-managed-policies", "true")
"""The tag AmazonEMRServicePolicy_v2 requires on the subnets and security groups EMR may use."""
DISK_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:DescribeKey")
SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
"""What the SSM agent on a node needs for Session Manager (the only way in: no SSH key)."""
CATALOG_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetDatabases",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
)
"""Reading the Glue Data Catalog as Hive and Spark metastore."""


class EmrRoles(Construct):
    """The EMR service role and the EC2 instance profile of cluster nodes.

    The service role trusts EMR of this account only and carries AmazonEMRServicePolicy_v2, the
    managed policy EMR requires (it acts only on resources tagged :data:`EMR_MANAGED_TAG`), plus
    passing the instance role to EC2 and using ``disk_key`` for EBS volumes. The instance role
    names every action: raw and curated read, analytics read and write, its ``artifacts`` prefixes
    (``logs_prefix`` write, ``read_prefixes`` read), the disk key, the metastore reads on
    ``databases`` (and ``default``, which Hive opens first), and Session Manager.
    Exposes ``service_role``, ``instance_role`` and ``instance_profile``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        raw: s3.IBucket,
        curated: s3.IBucket,
        analytics: s3.IBucket,
        artifacts: s3.IBucket,
        logs_prefix: str,
        read_prefixes: Sequence[str],
        disk_key: kms.IKey,
        databases: Sequence[str],
    ) -> None:
        """
        :param raw: read (store list).
        :param curated: read (transactions).
        :param analytics: read and written (features).
        :param artifacts: EMR logs under ``logs_prefix``; step code and certificates under ``read_prefixes``.
        :param logs_prefix: where cluster logs go, ending in ``/``.
        :param read_prefixes: prefixes of artifacts nodes read, each ending in ``/``.
        :param disk_key: the key of local and EBS disk encryption.
        :param databases: Glue databases the metastore serves.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        account = {"StringEquals": {"aws:SourceAccount": stack.account}}
        self.instance_role = LakeAccessRole(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="EMR cluster nodes: the lake, the metastore, Session Manager",
        )
        self.instance_role.read(raw, f"{RAW_STORES.prefix}*")  # the store list, never frames or captures
        self.instance_role.read(curated)
        self.instance_role.read_write(analytics)
        self.instance_role.read_write(artifacts, f"{logs_prefix}*")
        for prefix in read_prefixes:
            self.instance_role.read(artifacts, f"{prefix}*")
        disk_key.grant(self.instance_role, *DISK_KEY_ACTIONS, "kms:GenerateDataKey")
        self.instance_role.use_catalog(CATALOG_ACTIONS, [*databases, "default"])
        self.instance_role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(SESSION_MANAGER_ACTIONS), resources=["*"])
        )
        self.instance_role.acknowledge_wildcards(
            "Objects of raw's store list and curated (read) and analytics (read, write: partitions are "
            "replaced); "
            "only the log, code and certificate prefixes of artifacts; tables of the platform's "
            "databases; Session Manager's agent actions, which have no resource type.",
            resources=["*"],
        )
        # Named as the role: Step Functions' EMR task passes the role name as the job flow role.
        self.instance_profile = iam.InstanceProfile(
            self,
            "InstanceProfile",
            role=self.instance_role,
            instance_profile_name=self.instance_role.role_name,
        )

        self.service_role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("elasticmapreduce.amazonaws.com").with_conditions(
                {
                    **account,
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="elasticmapreduce", resource="cluster", resource_name="*"
                        )
                    },
                }
            ),
            description="EMR creates and scales the platform's clusters",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonEMRServicePolicy_v2")
            ],
        )
        self.service_role.add_to_principal_policy(  # hand the instance role to the cluster's EC2 nodes only
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.instance_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            )
        )
        disk_key.grant(self.service_role, *DISK_KEY_ACTIONS, "kms:GenerateDataKeyWithoutPlaintext")
        self.service_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[disk_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        acknowledge_own_policy(
            self.service_role,
            "The policy is the service role's own: passing the instance role and using the disk key; "
            "it is attached to no other principal.",
        )
        Validations.of(self.service_role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2]",
                reason="EMR requires its service policy; v2 acts only on resources tagged "
                "for-use-with-amazon-emr-managed-policies=true, which only the platform's EMR subnets "
                "and security groups carry.",
            )
        )
