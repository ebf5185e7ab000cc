"""The crawler that catalogs what lands in the raw zone."""

import json
from collections.abc import Sequence

from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from platform_constructs.glue.permissions import GlueRole

CRAWLER_TABLE_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:BatchUpdatePartition",
)
"""What a crawler does in its database: read, create and update tables and partitions (no deletes)."""


class RawCrawler(Construct):
    """A Glue crawler over ``prefixes`` of the raw bucket into ``database``.

    Recrawls new folders only (which requires logging schema changes and deletions instead of
    applying them), skips ``exclusions`` (markers, temporary files), groups compatible schemas, runs
    under ``security_configuration``, and has no schedule of its own: a workflow starts it. Its role
    reads only the ``prefixes`` of the raw bucket (and its key through the bucket grant), writes only
    ``database``'s tables and Glue's encrypted log groups; no AWS managed policy. Exposes ``crawler``
    and ``role``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        prefixes: Sequence[str],
        database: str,
        exclusions: Sequence[str],
        security_configuration: glue.ISecurityConfiguration,
        logs_key: kms.IKey,
    ) -> None:
        """
        :param bucket: the raw zone bucket.
        :param prefixes: key prefixes to crawl, each becoming a table.
        :param database: name of the Glue database the tables go into.
        :param exclusions: glob patterns of keys to skip.
        :param security_configuration: encrypts the crawler's logs.
        :param logs_key: the key of that configuration's CloudWatch encryption.
        """
        super().__init__(scope, construct_id)
        self.role = GlueRole(self, "Role", description="Crawls the raw zone into its Glue database")
        for prefix in prefixes:  # its crawl targets only: never frames or captured payloads
            self.role.read(bucket, f"{prefix}*")
        self.role.use_catalog(CRAWLER_TABLE_ACTIONS, [database])
        self.role.write_encrypted_logs(logs_key)
        self.role.acknowledge_wildcards(
            "Objects of the crawled raw prefixes (crawl targets that grow with the lake); "
            "tables of the raw database, which the crawler creates."
        )
        self.crawler = glue.CfnCrawler(
            self,
            "Crawler",
            role=self.role.role_arn,
            database_name=database,
            description="Catalogs raw uploads; new folders only",
            crawler_security_configuration=security_configuration.security_configuration_name,
            targets=glue.CfnCrawler.TargetsProperty(
                s3_targets=[
                    glue.CfnCrawler.S3TargetProperty(
                        path=bucket.s3_url_for_object(prefix), exclusions=list(exclusions)
                    )
                    for prefix in prefixes
                ]
            ),
            recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY"),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="LOG", delete_behavior="LOG"
            ),
            configuration=json.dumps(
                {
                    "Version": 1.0,
                    "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
                    "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
                },
                sort_keys=True,
            ),
        )
