"""The storage core of the platform: one KMS key and the lake's buckets."""

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from constructs import Construct

from platform_constructs.buckets import AccessLogBucket, Housekeeping, LakeBucket, Tiering
from platform_constructs.keys import rotating_key

ZONES = ("raw", "curated", "analytics")
"""The lake's data zones, in the order data flows through them."""
LOCKABLE_ZONES = ("raw", "curated")
"""The zones that hold data the platform cannot rebuild: what Object Lock protects."""


class DataLake(Construct):
    """A customer-managed KMS key and the lake's buckets.

    The key rotates yearly and is named by ``key_alias``; IAM policies (added through grants)
    decide who may use it, the roles in ``key_admins`` administer it (:func:`rotating_key`). Buckets:
    one per zone in :data:`ZONES` (tiered by ``tiering``), ``artifacts`` (scripts, models, cluster
    logs; query results under ``query_results_prefix``, deleted after ``query_results_retention``;
    not tiered) and ``access_logs`` (server access logs of all the others). Every data bucket
    refuses writes under another key (:class:`LakeBucket`); with ``object_lock_retention`` the
    zones in :data:`LOCKABLE_ZONES` lock new object versions in governance mode.
    Everything is retained unless ``removal_policy`` is DESTROY. Exposes ``key``, ``zones``
    (zone name -> bucket), ``raw``, ``curated``, ``analytics``, ``artifacts``, ``access_logs``,
    ``housekeeping`` and ``query_results_prefix``.
    """

    query_results_prefix = "athena-results/"
    certificates_prefix = "emr/tls/"
    """Where EMR's TLS certificate zips live in ``artifacts``, under a KMS key of their own."""
    cluster_logs_prefix = "emr/logs/"
    """Where EMR clusters push their logs in ``artifacts``. A transient cluster cannot name a log
    key (CDK's ``EmrCreateCluster`` task has no ``LogEncryptionKmsKeyId``) and EMR then asks for
    SSE-S3, which the bucket lets through here only; the long-running cluster names the lake key."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key_alias: str,
        key_admins: Sequence[str],
        tiering: Tiering,
        housekeeping: Housekeeping,
        access_log_retention: Duration,
        query_results_retention: Duration,
        object_lock_retention: Duration | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param key_alias: alias of the lake key, e.g. ``alias/dsp-dev-lake``.
        :param key_admins: IAM role ARNs that administer the lake key.
        :param tiering: storage-class transitions of zone data.
        :param housekeeping: expiry of noncurrent versions and unfinished uploads, every bucket.
        :param access_log_retention: how long server access logs are kept.
        :param query_results_retention: how long query results in ``artifacts`` are kept.
        :param object_lock_retention: governance-mode retention in the raw and curated zones;
            default none (no Object Lock).
        :param removal_policy: RETAIN (default) or DESTROY for the key and every bucket.
        """
        super().__init__(scope, construct_id)
        self.housekeeping = housekeeping
        self.key = rotating_key(
            self,
            "Key",
            alias=key_alias,
            admins=key_admins,
            description="Encrypts the data lake: zone data, artifacts, query results",
            removal_policy=removal_policy,
        )
        self.access_logs = AccessLogBucket(
            self,
            "AccessLogs",
            retention=access_log_retention,
            housekeeping=housekeeping,
            removal_policy=removal_policy,
        )
        self.zones = {
            zone: LakeBucket(
                self,
                zone.capitalize(),
                encryption_key=self.key,
                access_logs=self.access_logs,
                housekeeping=housekeeping,
                tiering=tiering,
                object_lock_retention=object_lock_retention if zone in LOCKABLE_ZONES else None,
                removal_policy=removal_policy,
            )
            for zone in ZONES
        }
        self.raw, self.curated, self.analytics = (self.zones[zone] for zone in ZONES)
        self.artifacts = LakeBucket(
            self,
            "Artifacts",
            encryption_key=self.key,
            access_logs=self.access_logs,
            housekeeping=housekeeping,
            own_key_prefixes=[self.certificates_prefix],
            sse_s3_prefixes=[self.cluster_logs_prefix],
            removal_policy=removal_policy,
        )
        self.artifacts.add_lifecycle_rule(
            id="ExpireQueryResults",
            prefix=self.query_results_prefix,
            expiration=query_results_retention,
        )
