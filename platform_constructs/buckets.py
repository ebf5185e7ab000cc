"""S3 buckets with the platform's secure defaults: one class for data, one for access logs."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


@dataclass(frozen=True)
class Tiering:
    """When objects move to cheaper storage.

    :param infrequent_access_after: age at which current objects move to Standard-IA (at least 30 days).
    :param archive_after: age at which they move to Glacier Instant Retrieval, which Athena and Spark
        can still read; None keeps them in Standard-IA.
    """

    infrequent_access_after: Duration
    archive_after: Duration | None = None


@dataclass(frozen=True)
class Housekeeping:
    """How long superseded data is kept; delete markers with no versions left are always removed.

    :param noncurrent_version_expiry: age of a noncurrent version at which it is deleted.
    :param abort_incomplete_upload_after: age at which an unfinished multipart upload is aborted.
    """

    noncurrent_version_expiry: Duration
    abort_incomplete_upload_after: Duration


def _secure_defaults(removal_policy: RemovalPolicy) -> dict[str, Any]:
    """Bucket props every platform bucket shares: private, TLS 1.2+ only, versioned, owner-enforced."""
    return {
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "enforce_ssl": True,
        "minimum_tls_version": 1.2,
        "versioned": True,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "removal_policy": removal_policy,
        "auto_delete_objects": removal_policy == RemovalPolicy.DESTROY,
    }


def _acknowledge_single_region(bucket: s3.Bucket) -> None:
    Validations.of(bucket).acknowledge(
        Acknowledgment(
            id="NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
            reason="Versioning and retained buckets give recovery in one region; cross-region "
            "replication doubles storage cost and belongs to forks with a disaster-recovery need.",
        )
    )


def _lifecycle_rules(housekeeping: Housekeeping, tiering: Tiering | None) -> list[s3.LifecycleRule]:
    transitions = []
    if tiering is not None:
        transitions.append(
            s3.Transition(
                storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                transition_after=tiering.infrequent_access_after,
            )
        )
        if tiering.archive_after is not None:
            transitions.append(
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transition_after=tiering.archive_after,
                )
            )
    return [
        s3.LifecycleRule(
            id="Housekeeping",
            noncurrent_version_expiration=housekeeping.noncurrent_version_expiry,
            abort_incomplete_multipart_upload_after=housekeeping.abort_incomplete_upload_after,
            expired_object_delete_marker=True,
            transitions=transitions or None,
        )
    ]


class AccessLogBucket(s3.Bucket):
    """The target of S3 server access logging for every lake bucket.

    S3 log delivery cannot write with SSE-KMS, so this bucket uses SSE-S3; otherwise it has the lake
    defaults: public access blocked, TLS-only policy, versioning, object ownership enforced (log
    delivery is granted through the bucket policy). Logs expire after ``retention``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retention: Duration,
        housekeeping: Housekeeping,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param retention: age at which log objects are deleted.
        :param housekeeping: expiry of noncurrent versions and unfinished uploads.
        :param removal_policy: RETAIN (default) or DESTROY, which also empties the bucket on delete.
        """
        rules = _lifecycle_rules(housekeeping, None)
        rules.append(s3.LifecycleRule(id="ExpireLogs", expiration=retention))
        super().__init__(
            scope,
            construct_id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            lifecycle_rules=rules,
            **_secure_defaults(removal_policy),
        )
        _acknowledge_single_region(self)
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
                reason="S3 server access log delivery only writes to buckets encrypted with SSE-S3.",
            )
        )

    def accept_logs_from_this_account(self, prefix: str) -> None:
        """Let S3 deliver the access logs of any bucket of this account under ``prefix``: for buckets
        in other stacks, whose ARN this bucket's policy cannot name without a dependency cycle."""
        self.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.arn_for_objects(f"{prefix}*")],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )


class LakeBucket(s3.Bucket):
    """A data bucket of the lake.

    SSE-KMS with the given key and S3 bucket keys (fewer KMS calls, lower cost), public access
    blocked, TLS 1.2+ only, versioning, object ownership enforced, server access logs to
    ``access_logs`` under ``<construct id>/``, and lifecycle rules: noncurrent versions and
    unfinished uploads cleaned up, current objects tiered by age when ``tiering`` is given.
    The bucket policy refuses a write that names another KMS key, another encryption than SSE-KMS
    or a customer-provided key (SSE-C); a write without encryption headers gets the bucket default.
    With ``object_lock_retention``, every new object version is locked in governance mode that long.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        access_logs: s3.IBucket,
        housekeeping: Housekeeping,
        tiering: Tiering | None = None,
        object_lock_retention: Duration | None = None,
        own_key_prefixes: Sequence[str] = (),
        sse_s3_prefixes: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param encryption_key: the customer-managed key for SSE-KMS, the only key writes may name.
        :param own_key_prefixes: key prefixes whose objects are written under a KMS key of their own
            (still SSE-KMS, never SSE-C), such as EMR's TLS certificate zips; default none.
        :param sse_s3_prefixes: key prefixes where a writer that cannot name a key may ask for
            SSE-S3 (never SSE-C, never another KMS key), such as transient EMR clusters' logs;
            default none.
        :param access_logs: the bucket receiving server access logs.
        :param housekeeping: expiry of noncurrent versions and unfinished uploads.
        :param tiering: storage-class transitions by age; default none.
        :param object_lock_retention: default governance-mode retention of new object versions;
            default none (no Object Lock). Once on, S3 never turns Object Lock off for the bucket.
        :param removal_policy: RETAIN (default) or DESTROY, which also empties the bucket on delete.
        """
        super().__init__(
            scope,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{construct_id.lower()}/",
            lifecycle_rules=_lifecycle_rules(housekeeping, tiering),
            object_lock_enabled=True if object_lock_retention else None,
            object_lock_default_retention=(
                s3.ObjectLockRetention.governance(object_lock_retention) if object_lock_retention else None
            ),
            **_secure_defaults(removal_policy),
        )
        _acknowledge_single_region(self)
        self._refuse_writes_not_under(encryption_key, own_key_prefixes, sse_s3_prefixes)

    def _refuse_writes_not_under(
        self, key: kms.IKey, own_key_prefixes: Sequence[str], sse_s3_prefixes: Sequence[str]
    ) -> None:
        """Deny every put (``PutObject`` also authorizes copies and multipart uploads) that names a
        KMS key other than ``key`` (outside ``own_key_prefixes``), an encryption other than SSE-KMS
        (outside ``sse_s3_prefixes``, where SSE-S3 is let through), or a customer-provided key. The
        ``IfExists`` forms let a put without headers through: the bucket default encrypts it."""
        everywhere = [self.arn_for_objects("*")]
        exempt = {
            sid: [self.arn_for_objects(f"{prefix}*") for prefix in prefixes]
            for sid, prefixes in (
                ("DenyPutsUnderAnotherKmsKey", own_key_prefixes),
                ("DenyPutsWithAnotherEncryption", sse_s3_prefixes),
            )
        }
        refusals = {
            "DenyPutsUnderAnotherKmsKey": {
                "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key.key_arn}
            },
            "DenyPutsWithAnotherEncryption": {
                "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
            },
            "DenyPutsWithCustomerKeys": {
                "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}
            },
        }
        for sid, conditions in refusals.items():
            spared = exempt.get(sid)
            self.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["s3:PutObject"],
                    resources=None if spared else everywhere,
                    not_resources=spared or None,
                    conditions=conditions,
                )
            )
