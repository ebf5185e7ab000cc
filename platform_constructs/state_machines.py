"""The platform's Step Functions state machines: logged, traced, encrypted the same way."""

from collections.abc import Callable, Sequence
from typing import NamedTuple

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

DATE = r"^\d{4}-\d{2}-\d{2}$"
PICTURE = "[Y0001]-[M01]-[D01]"
"""JSONata's picture of a ``yyyy-mm-dd`` date."""
DAY_MILLIS = 86_400_000


def valid_day(variable: str) -> sfn.Condition:
    """A JSONata condition: the state machine variable ``variable`` holds a ``yyyy-mm-dd`` day."""
    return sfn.Condition.jsonata(
        f"{{% $contains(${variable}, /{DATE[1:-1]}/) and $length(${variable}) = 10 %}}"
    )


def days_after(variable: str, days: int) -> str:
    """A JSONata expression (no ``{% %}``): the day ``days`` after (before, when negative) the
    ``yyyy-mm-dd`` day in variable ``variable``."""
    return f"$fromMillis($toMillis(${variable}, '{PICTURE}') + {days * DAY_MILLIS}, '{PICTURE}')"


class PollStates(NamedTuple):
    """The state names of one polled step: its wait, its choice, and where the choice goes."""

    wait: str
    choice: str
    done: str
    failed: str
    too_slow: str


Ending = Callable[[str, str], sfn.IChainable]
"""Makes the states a poll ends in when it fails: (state name, cause) -> the first of them."""


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
    role: iam.IRole | None = None,
) -> sfn.StateMachine:
    """A standard state machine ``StateMachine`` in ``scope`` running ``definition`` (JSONata when
    ``jsonata``), stopped after ``timeout``, with X-Ray tracing and all events (without execution
    data) logged to its own log group ``Logs``, encrypted with ``logs_key`` and kept
    ``log_retention``. ``name``: a physical name, for machines other stacks start by name;
    ``role``: the role it runs as (default: one CDK makes)."""
    log_group = logs.LogGroup(
        scope, "Logs", encryption_key=logs_key, retention=log_retention, removal_policy=removal_policy
    )
    return sfn.StateMachine(
        scope,
        "StateMachine",
        state_machine_name=name,
        role=role,
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


def poll_until(
    scope: Construct,
    start: sfn.TaskStateBase,
    status: sfn.TaskStateBase,
    *,
    names: PollStates,
    done: str,
    failed: str,
    cause: str,
    too_slow: str,
    polls: int,
    interval: Duration,
    end: Ending,
    busy: Sequence[str] = (),
) -> sfn.IChainable:
    """``start``, then a wait of ``interval`` and ``status`` (which counts ``$polls``; ``start``
    sets it to 0) until the JSONata condition ``done`` holds. When ``failed`` holds instead, the
    poll ends through ``end`` with ``cause`` (a JSONata expression); after ``polls`` checks with
    ``too_slow``. ``busy``: errors of ``start`` that mean the work is already under way, to be
    waited for. JSONata state machines only."""
    wait = sfn.Wait.jsonata(scope, names.wait, time=sfn.WaitTime.duration(interval))
    if busy:
        start.add_catch(wait, errors=list(busy), assign={"polls": 0})
    finished = sfn.Pass.jsonata(scope, names.done)
    choice = sfn.Choice.jsonata(scope, names.choice)
    choice.when(sfn.Condition.jsonata(f"{{% {done} %}}"), finished)
    for state, condition, message in (
        (names.failed, failed, f"{{% {cause} %}}"),
        (names.too_slow, f"$polls >= {polls}", too_slow),
    ):
        choice.when(sfn.Condition.jsonata(f"{{% {condition} %}}"), end(state, message))
    choice.otherwise(wait)
    sfn.Chain.start(start).next(wait).next(status).next(choice)
    return sfn.Chain.custom(start, [finished], start)
