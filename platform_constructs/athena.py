"""The Athena workgroup that every query of the platform runs in."""

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from platform_constructs.lake_access import LakeAccessRole

ENGINE_VERSION = "Athena engine version 3"
QUERY_ACTIONS = (
    "athena:StartQueryExecution",
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:GetQueryResultsStream",
    "athena:StopQueryExecution",
    "athena:GetWorkGroup",
)
"""What running a query in the workgroup and reading its results takes."""
DATA_CATALOG_ACTIONS = (
    "athena:GetDataCatalog",
    "athena:GetDatabase",
    "athena:GetTableMetadata",
    "athena:ListDatabases",
    "athena:ListTableMetadata",
)
"""What browsing the Glue catalog through Athena takes."""
CATALOG_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetDatabases",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartitions",
)
"""What Athena reads of the Glue catalog as the querying principal."""


class AthenaWorkgroup(Construct):
    """An Athena workgroup on engine version 3 whose settings clients cannot override.

    Results go to ``results_bucket`` under ``results_prefix``, encrypted with SSE-KMS under
    ``encryption_key``; each query is cancelled once it scans ``bytes_scanned_cutoff`` bytes;
    CloudWatch metrics are published. The name is forced by Athena: pass one derived from the
    platform prefix. :meth:`grant_query` lets a role query it. Exposes ``workgroup`` (the
    ``CfnWorkGroup``), ``name`` and ``results_location``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        results_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        bytes_scanned_cutoff: int,
        results_prefix: str = "athena-results/",
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name: the workgroup's name.
        :param results_bucket: bucket for query results.
        :param encryption_key: key that encrypts query results.
        :param bytes_scanned_cutoff: per-query scan limit in bytes (at least 10 MB).
        :param results_prefix: key prefix of results in ``results_bucket``; default ``athena-results/``.
        :param removal_policy: RETAIN (default) or DESTROY, which also deletes saved queries.
        """
        super().__init__(scope, construct_id)
        self.name = name
        self._results = (results_bucket, results_prefix, encryption_key)
        self.results_location = results_bucket.s3_url_for_object(results_prefix)
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=name,
            description="Queries over the data lake, with enforced encryption and scan limits",
            state="ENABLED",
            recursive_delete_option=removal_policy == RemovalPolicy.DESTROY,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ENGINE_VERSION
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self.results_location,
                    expected_bucket_owner=results_bucket.env.account,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS",
                        kms_key=encryption_key.key_arn,
                    ),
                ),
            ),
        )
        self.workgroup.apply_removal_policy(removal_policy)

    def grant_query(self, role: LakeAccessRole, *, databases: Sequence[str]) -> None:
        """Let ``role`` run queries in the workgroup over the tables of ``databases`` (the Glue
        catalog, through Athena's data catalog too) and read and write their results, encrypted with
        the results key. Reading the tables' data is granted apart (``role.read``)."""
        stack = Stack.of(role)
        bucket, prefix, key = self._results
        role.read_write(bucket, f"{prefix}*")
        key.grant(role, "kms:Decrypt", "kms:GenerateDataKey")
        role.use_catalog(CATALOG_ACTIONS, databases)
        arn = stack.format_arn(service="athena", resource="workgroup", resource_name=self.name)
        catalog = stack.format_arn(service="athena", resource="datacatalog", resource_name="AwsDataCatalog")
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(QUERY_ACTIONS), resources=[arn]))
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(DATA_CATALOG_ACTIONS), resources=[catalog])
        )
