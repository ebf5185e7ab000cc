"""KMS key policy statements the platform's keys share."""

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam


def cloudwatch_logs_statement(stack: Stack, sid: str, log_group_names: str) -> iam.PolicyStatement:
    """Lets CloudWatch Logs of ``stack``'s account and region use a key, only for log groups whose
    names match ``log_group_names`` (e.g. ``*`` or ``/aws-glue/*``): the encryption context names
    the log group, so the condition holds for every call the service makes."""
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        resources=["*"],
        conditions={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=log_group_names,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            }
        },
    )
