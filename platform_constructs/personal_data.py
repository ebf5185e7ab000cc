"""A place of its own for one class of personal data: a bucket, and a key no grant on the lake reaches."""

from collections.abc import Sequence
from dataclasses import replace

import jsii
from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IValidation

from platform_constructs.buckets import AccessLogBucket, Housekeeping, LakeBucket

READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
"""What reads an object's content (a copy's source and S3 Select need them too)."""
DECRYPT_ACTIONS = ("kms:Decrypt", "kms:ReEncryptFrom")
"""What turns the store's ciphertext into plaintext, or into ciphertext under another key."""


class PersonalDataStore(Construct):
    """A bucket of its own for one class of personal data (camera frames, captured endpoint
    requests) under a key no lake grant covers, so that no grant on the lake, however broad,
    reaches it.

    The bucket has the lake's defaults (:class:`LakeBucket`: SSE-KMS under ``key`` only, TLS only,
    versioned, server access logs to ``access_logs`` under ``<data_class>/``) and deletes every
    object ``retention`` after it is written, its last version a day later. Two fences hold whatever
    IAM policies say: the bucket policy denies :data:`READ_ACTIONS` to every principal but
    ``readers``, and the key policy denies :data:`DECRYPT_ACTIONS` through S3 to every principal but
    ``readers`` and the one writer (:meth:`grant_write`; a multipart upload decrypts its parts), so
    the key may keep serving another service (the camera streams' key serves Kinesis Video).
    ``readers`` (role ARNs of this account, which must exist at deploy time) are allowed in both
    policies, so they need no IAM policy of their own, and may decrypt only through S3. Exposes
    ``bucket``, ``key`` and ``writer``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_class: str,
        key: kms.Key,
        readers: Sequence[str],
        retention: Duration,
        access_logs: AccessLogBucket,
        housekeeping: Housekeeping,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param data_class: what the store holds, in lower case (``frames``): names its bucket's
            construct and the prefix of its access logs.
        :param key: encrypts the objects; a platform key (:func:`rotating_key`) that no lake grant
            names.
        :param readers: IAM role ARNs that may read the objects; default nobody.
        :param retention: age at which an object is deleted.
        :param access_logs: the lake's access log bucket (it may live in another stack).
        :param housekeeping: expiry of unfinished uploads (noncurrent versions go after a day).
        :param removal_policy: RETAIN (default) or DESTROY for the bucket.
        """
        super().__init__(scope, construct_id)
        self._readers = list(readers)
        self.writer: iam.IRole | None = None
        self.key = key
        self._through_s3 = {"StringEquals": {"kms:ViaService": f"s3.{Stack.of(self).region}.amazonaws.com"}}
        access_logs.accept_logs_from_this_account(f"{data_class}/")
        self.bucket = LakeBucket(
            self,
            data_class.capitalize(),
            encryption_key=self.key,
            access_logs=_imported(self, access_logs),
            housekeeping=replace(housekeeping, noncurrent_version_expiry=Duration.days(1)),
            removal_policy=removal_policy,
        )
        self.bucket.add_lifecycle_rule(id="ExpirePersonalData", expiration=retention)
        Annotations.of(self.bucket).acknowledge_warning(
            "@aws-cdk/aws-s3:accessLogsPolicyNotAdded",
            "The access log bucket accepts this account's log deliveries under the store's prefix.",
        )
        self._admit_readers()
        self.bucket.add_to_resource_policy(
            _refusal(
                "DenyReadsToAllButTheReaders", READ_ACTIONS, [self.bucket.arn_for_objects("*")], self._readers
            )
        )
        self.node.add_validation(_HasWriter(self))

    def _admit_readers(self) -> None:
        """Allow ``readers`` to list and read the bucket, and to decrypt through S3 of this region."""
        if not self._readers:
            return
        readers = [iam.ArnPrincipal(arn) for arn in self._readers]
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowTheReaders",
                principals=readers,
                actions=["s3:ListBucket", *READ_ACTIONS],
                resources=[self.bucket.bucket_arn, self.bucket.arn_for_objects("*")],
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowTheReadersThroughS3",
                principals=readers,
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions=self._through_s3,
            )
        )

    def grant_write(self, role: iam.IRole) -> None:
        """Let ``role``, the store's one writer, put objects (never read them: the bucket denies it)
        and use the key through S3 for it, and exempt it from the key's decrypt fence alone."""
        if self.writer is not None:
            raise ValueError(f"{self.node.path} has a writer already: one writer per class of personal data")
        self.writer = role
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects("*")])
        )
        role.add_to_principal_policy(  # a multipart upload decrypts its parts
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[self.key.key_arn],
                conditions=self._through_s3,
            )
        )
        self.key.add_to_resource_policy(
            _refusal(
                "DenyDecryptThroughS3ToAllButTheReadersAndTheWriter",
                DECRYPT_ACTIONS,
                ["*"],
                [*self._readers, role.role_arn],
                self._through_s3,
            )
        )


def _refusal(
    sid: str,
    actions: Sequence[str],
    resources: list[str],
    exempt: Sequence[str],
    conditions: dict[str, dict[str, str]] | None = None,
) -> iam.PolicyStatement:
    """Deny ``actions`` on ``resources`` to every principal but ``exempt`` (ARNs; nobody when empty),
    where ``conditions`` also hold."""
    unless = {"ArnNotEquals": {"aws:PrincipalArn": list(exempt)}} if exempt else {}
    return iam.PolicyStatement(
        sid=sid,
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=list(actions),
        resources=resources,
        conditions={**(conditions or {}), **unless} or None,
    )


def _imported(scope: Construct, bucket: s3.IBucket) -> s3.IBucket:
    """``bucket`` as a reference, so the store's bucket does not write its own, unconditioned log
    delivery statement into the policy of a bucket in another stack."""
    return s3.Bucket.from_bucket_name(scope, "AccessLogs", bucket.bucket_name)


@jsii.implements(IValidation)
class _HasWriter:
    """Synth fails for a store nobody writes: its key would have no decrypt fence."""

    def __init__(self, store: PersonalDataStore) -> None:
        self.store = store

    def validate(self) -> list[str]:
        return [] if self.store.writer is not None else [f"{self.store.node.path}: no writer (grant_write)"]
