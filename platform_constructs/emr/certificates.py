"""EMR's in-transit TLS certificates, made at deploy time by a custom resource."""

from collections.abc import Sequence

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from platform_constructs.keys import rotating_key
from platform_constructs.lambda_functions import (
    ARCHITECTURE,
    RUNTIME,
    VPC_ACCESS_ACTIONS,
    custom_resource_function_with_own_role,
)
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards
from platform_constructs.python_modules import ROOT

LAMBDA_DEPS = ROOT / "build" / "lambda-deps"
"""Linux arm64 wheels of ``requirements-lambda.txt``, built by ``make setup``."""
HANDLER = "workloads/emr/certificates.py"
EXPIRY_MARGIN_DAYS = 30
"""Days a zip outlives its certificate before the lifecycle deletes it: a cluster still running on
the previous certificate after a rotation keeps reading its zip until it is replaced."""


class TlsCertificates(Construct):
    """A custom resource whose Lambda (:mod:`workloads.emr.certificates`) makes a private key and a
    self-signed certificate valid ``validity_days`` for the region's EC2 host names and writes them,
    as the zip EMR's PEM provider reads, to ``bucket`` under ``prefix``, each under a new name,
    encrypted with a key of its own. Changing ``validity_days`` or ``rotation`` makes a new zip at
    the next deploy (its new URI replaces the security configuration that points at it). A
    lifecycle rule on ``bucket`` deletes zips ``EXPIRY_MARGIN_DAYS`` after their certificate
    expires. The function runs in ``subnets`` of ``vpc`` (it needs only the S3 gateway endpoint),
    logging to an encrypted group; its role may only write that prefix with that key, and
    :meth:`allow_decrypt` names the one role that may read the zip. Exposes ``uri`` (the zip's
    ``s3://`` URI), ``key`` and ``function``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.Bucket,
        prefix: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        validity_days: int = 365,
        key_admins: Sequence[str] = (),
        rotation: int = 1,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param bucket: where the zip goes (the artifacts bucket); gets the lifecycle rule.
        :param prefix: key prefix of the zip, ending in ``/``; nothing else may live there.
        :param vpc: the platform VPC.
        :param subnets: private subnets with the S3 gateway endpoint.
        :param logs_key: encrypts the function's log group; must let CloudWatch Logs use it.
        :param log_retention: how long the function's logs are kept.
        :param validity_days: lifetime of the certificate; default one year.
        :param key_admins: IAM role ARNs that administer the zip key.
        :param rotation: a counter; a new value makes a new key and certificate.
        :param removal_policy: of the log group and the zip key; default RETAIN.
        """
        super().__init__(scope, construct_id)
        if not (LAMBDA_DEPS / "python").is_dir():
            raise FileNotFoundError(f"{LAMBDA_DEPS.relative_to(ROOT)} is missing: run `make setup` first")
        https_out = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="EMR TLS certificate function: HTTPS out only",
            allow_all_outbound=False,
        )
        https_out.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443),
            "S3 and KMS through their endpoints, CloudFormation's response URL",
        )
        self.function, role, log_group = custom_resource_function_with_own_role(
            self,
            entry=HANDLER,
            description="Makes EMR's in-transit TLS certificates (CloudFormation custom resource)",
            role_description="Writes EMR's TLS certificate zip",
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            layers=[
                lambda_.LayerVersion(
                    self,
                    "Dependencies",
                    # pip writes the build machine's interpreter path into console scripts and
                    # their RECORD hashes; the function needs neither, and the asset stays the same
                    # on every machine.
                    code=lambda_.Code.from_asset(str(LAMBDA_DEPS), exclude=["python/bin", "**/RECORD"]),
                    compatible_runtimes=[RUNTIME],
                    compatible_architectures=[ARCHITECTURE],
                    description="cryptography and its dependencies (requirements-lambda.txt)",
                )
            ],
            memory_size=512,
            timeout=Duration.minutes(1),
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[https_out],
        )
        self.key = rotating_key(
            self,
            "Key",
            description="Encrypts EMR's TLS certificate zips: only the EMR instance role may decrypt",
            removal_policy=removal_policy,
            admins=key_admins,
        )
        s3.BucketGrants.from_bucket(bucket).actions_on_object_keys(role, f"{prefix}*", "s3:PutObject")
        self.key.grant(role, "kms:GenerateDataKey")
        bucket.add_lifecycle_rule(
            id="ExpireEmrTlsCertificates",
            prefix=prefix,
            expiration=Duration.days(validity_days + EXPIRY_MARGIN_DAYS),
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(VPC_ACCESS_ACTIONS), resources=["*"]))
        acknowledge_wildcards(
            role,
            reason="New certificate zips get fresh names under the prefix (the role may only put there); "
            "the streams of its own log group; the actions Lambda needs to attach the function to the "
            "VPC, which take no resource ARN (the interface does not exist yet; subnets are described).",
            resources=[bucket.arn_for_objects(f"{prefix}*"), log_group.log_group_arn, "*"],
        )
        acknowledge_own_policy(role, "The policy is the function's own: its logs, its ENIs and one prefix.")
        resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type="Custom::EmrTlsCertificates",
            properties={
                "Bucket": bucket.bucket_name,
                "Prefix": prefix,
                "KmsKeyArn": self.key.key_arn,
                "ValidityDays": str(validity_days),
                "Rotation": str(rotation),
            },
        )
        self.uri = resource.get_att_string("Uri")

    def allow_decrypt(self, reader: iam.Role) -> None:
        """Let ``reader`` (the EMR instance role) decrypt the zips, and deny decryption to every
        other principal of any account, whatever its IAM policies say."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"], principals=[iam.ArnPrincipal(reader.role_arn)], resources=["*"]
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=["kms:Decrypt"],
                principals=[iam.AnyPrincipal()],
                resources=["*"],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": reader.role_arn}},
            )
        )
