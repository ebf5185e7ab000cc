"""The platform's Step Functions state machines: logged, traced, encrypted the same way."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct


def logged_state_machine(
    scope: Construct,
    *,
    definition: sfn.IChainable,
    timeout: Duration,
    logs_key: kms.IKey,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
    name: str | None = None,
    jsonata: bool = False,
) -> sfn.StateMachine:
    """A standard state machine ``StateMachine`` in ``scope`` running ``definition`` (JSONata when
    ``jsonata``), stopped after ``timeout``, with X-Ray tracing and all events (without execution
    data) logged to its own log group ``Logs``, encrypted with ``logs_key`` and kept
    ``log_retention``. ``name``: a physical name, for machines other stacks start by name."""
    log_group = logs.LogGroup(
        scope, "Logs", encryption_key=logs_key, retention=log_retention, removal_policy=removal_policy
    )
    return sfn.StateMachine(
        scope,
        "StateMachine",
        state_machine_name=name,
        query_language=sfn.QueryLanguage.JSONATA if jsonata else None,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
    )


def own_role(machine: sfn.StateMachine) -> iam.Role:
    """The role CDK made for ``machine``, to grant to and acknowledge on."""
    role = machine.role
    assert isinstance(role, iam.Role)
    return role
