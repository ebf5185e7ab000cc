"""Who may write and read the camera streams: devices through AWS IoT, viewers through a role."""

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_kms as kms
from constructs import Construct

from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards

THING_NAME = "${credentials-iot:ThingName}"
"""IAM policy variable the IoT credentials provider sets to the calling device's thing name."""
PRODUCER_ACTIONS = ("kinesisvideo:PutMedia", "kinesisvideo:DescribeStream", "kinesisvideo:GetDataEndpoint")
CONSUMER_ACTIONS = (
    "kinesisvideo:GetDataEndpoint",
    "kinesisvideo:DescribeStream",
    "kinesisvideo:GetMedia",
    "kinesisvideo:GetImages",
    "kinesisvideo:GetClip",
)
"""What a viewer does with its own credentials: live media, images and clips, each call signed."""
SESSION_URL_ACTIONS = ("kinesisvideo:GetHLSStreamingSessionURL", "kinesisvideo:GetDASHStreamingSessionURL")
"""Bearer URLs: whoever holds one plays the stream for its ``Expires`` (up to 12 hours), from anywhere."""


def via_kinesis_video(stack: Stack) -> dict[str, dict[str, str]]:
    """A KMS condition: the key is used by Kinesis Video of this region on the caller's behalf."""
    return {"StringEquals": {"kms:ViaService": f"kinesisvideo.{stack.region}.amazonaws.com"}}


class CameraAccess(Construct):
    """Access to the camera streams without long-lived keys.

    Devices: a producer role trusted by AWS IoT's credentials provider, a role alias
    ``<name_prefix>-camera`` for it, and an IoT policy that lets a device's certificate assume that
    alias, nothing else. The role lets each device reach only the stream named after its IoT thing
    (``${credentials-iot:ThingName}``; an explicit deny keeps it off streams not named
    ``<name_prefix>-*``) with
    ``PutMedia``, ``DescribeStream`` and ``GetDataEndpoint``, and use ``key`` only through Kinesis
    Video. Viewers: a consumer role, assumable by the roles in ``viewers`` only (none: no role), a
    role of another account than the stack's (every role when the stack's account is unknown) only
    under ``foreign_conditions``; it may read media, images and clips on ``stream_arns`` (and open
    HLS and DASH sessions if ``session_urls``), and decrypt through Kinesis Video. Exposes
    ``producer_role``, ``role_alias``, ``iot_policy`` and ``consumer_role`` (None without viewers)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        stream_arns: Sequence[str],
        key: kms.IKey,
        credential_duration: Duration,
        viewers: Sequence[str] = (),
        foreign_conditions: Mapping[str, str] | None = None,
        session_urls: bool = False,
    ) -> None:
        """
        :param name_prefix: streams and things are named ``<name_prefix>-<camera>``.
        :param stream_arns: the platform's streams, for the consumer role.
        :param key: the streams' key.
        :param credential_duration: how long a device's temporary credentials last.
        :param viewers: IAM role ARNs that may assume the consumer role; empty: no consumer role.
        :param foreign_conditions: ``StringEquals`` conditions (``sts:ExternalId``,
            ``aws:PrincipalOrgID``) on the trust of a viewer in another account; default: none.
        :param session_urls: also allow HLS and DASH session URLs.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        streams = stack.format_arn(service="kinesisvideo", resource="stream", resource_name=f"{THING_NAME}/*")
        self.producer_role = iam.Role(
            self,
            "ProducerRole",
            assumed_by=iam.ServicePrincipal("credentials.iot.amazonaws.com"),
            description="Cameras: put media into the stream named after their IoT thing",
            max_session_duration=Duration.seconds(max(3600, credential_duration.to_seconds())),
        )
        self.producer_role.add_to_policy(
            iam.PolicyStatement(actions=list(PRODUCER_ACTIONS), resources=[streams])
        )
        platform_streams = stack.format_arn(
            service="kinesisvideo", resource="stream", resource_name=f"{name_prefix}-*/*"
        )
        self.producer_role.add_to_policy(
            iam.PolicyStatement(  # a thing named like another stream of the account still reaches none
                effect=iam.Effect.DENY,
                actions=list(PRODUCER_ACTIONS),
                not_resources=[platform_streams],
            )
        )
        self.producer_role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey"], resources=[key.key_arn], conditions=via_kinesis_video(stack)
            )
        )
        acknowledge_wildcards(
            self.producer_role,
            reason="The device's own stream: the thing-name variable resolves to exactly one stream name, "
            "and the trailing * is the creation time Kinesis Video appends to every stream ARN.",
            resources=[streams],
        )
        acknowledge_own_policy(self.producer_role, "The cameras' own role: their stream and its key only.")
        self.role_alias = iot.CfnRoleAlias(
            self,
            "RoleAlias",
            role_alias=f"{name_prefix}-camera",
            role_arn=self.producer_role.role_arn,
            credential_duration_seconds=int(credential_duration.to_seconds()),
        )
        self.iot_policy = iot.CfnPolicy(
            self,
            "DevicePolicy",
            policy_name=f"{name_prefix}-camera",
            policy_document={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iot:AssumeRoleWithCertificate",
                        "Resource": self.role_alias.attr_role_alias_arn,
                    }
                ],
            },
        )
        self.consumer_role: iam.Role | None = None
        if not viewers:
            return
        own_account = None if Token.is_unresolved(stack.account) else stack.account
        conditions = {"StringEquals": dict(foreign_conditions or {})}
        principals = [
            iam.ArnPrincipal(arn)
            if arn.split(":")[4] == own_account or not conditions["StringEquals"]
            else iam.ArnPrincipal(arn).with_conditions(conditions)
            for arn in viewers
        ]
        self.consumer_role = iam.Role(
            self,
            "ConsumerRole",
            assumed_by=iam.CompositePrincipal(*principals),
            description="Viewers: read the camera streams (media, images, clips"
            + (", HLS, DASH)" if session_urls else ")"),
        )
        actions = CONSUMER_ACTIONS + (SESSION_URL_ACTIONS if session_urls else ())
        self.consumer_role.add_to_policy(
            iam.PolicyStatement(actions=list(actions), resources=list(stream_arns))
        )
        self.consumer_role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"], resources=[key.key_arn], conditions=via_kinesis_video(stack)
            )
        )
        acknowledge_own_policy(
            self.consumer_role, "The viewers' own role: the platform's streams and their key only."
        )
