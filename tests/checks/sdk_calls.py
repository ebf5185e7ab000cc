"""Every AWS SDK call the platform makes, validated against botocore's service models.

Three sources of calls, one validator:

- Step Functions tasks (``arn:...:states:::aws-sdk:<service>:<action>`` and the optimized
  integrations) in every state machine of a synthesized template, JSONata ``Arguments`` and JSONPath
  ``Parameters`` alike;
- ``AwsCustomResource`` calls (the JSON ``Create``/``Update``/``Delete`` properties);
- ``boto3`` client calls in our own Python code, found by a static AST pass (:func:`code_calls`).

Values known only at run time (JSONata ``{% ... %}``, JSONPath ``.$`` keys, CloudFormation
references, non-literal Python arguments) become typed sample values of the member they fill, then
``botocore.validate.ParamValidator`` checks names, required members and types against the operation's
input shape; literal strings are also checked against the member's enum, which botocore leaves to
the service. Each finding names its place: environment, stack, state machine and state; or file and
line.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore import xform_name
from botocore.model import ServiceModel, Shape, StructureShape
from botocore.validate import ParamValidator


class _Hole:
    """A value known only at run time; replaced by a sample of the member it fills."""

    def __repr__(self) -> str:
        return "<run-time value>"


HOLE = _Hole()
TOKEN = re.compile(r"⟪[^⟫]*⟫")
"""How a resolved CloudFormation intrinsic looks inside a definition (see :func:`resolve`)."""


# --- service models --------------------------------------------------------------------------------


@cache
def _botocore() -> botocore.session.Session:
    """One botocore session: every model is loaded once per test session."""
    return botocore.session.get_session()


@cache
def model(service: str) -> ServiceModel:
    """The service model of ``service`` (cheaper than a client: no endpoint rules)."""
    return _botocore().get_service_model(service)


@cache
def _session() -> boto3.session.Session:
    """A boto3 session over the same botocore session, for the clients the code pass inspects."""
    return boto3.session.Session(
        botocore_session=_botocore(),
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@cache
def client(service: str) -> Any:
    """A boto3 client of ``service`` (creating one makes no request), for the methods boto3 adds."""
    return _session().client(service)


@cache
def methods(service: str) -> dict[str, str]:
    """Client method -> operation, named as botocore names a client's methods (``xform_name``),
    without building a client: its endpoint rules cost more than its model."""
    return {xform_name(operation): operation for operation in model(service).operation_names}


@cache
def paginators(service: str) -> frozenset[str]:
    """The client methods ``get_paginator`` accepts."""
    try:
        config = _botocore().get_component("data_loader").load_service_model(service, "paginators-1")
    except botocore.exceptions.DataNotFoundError:
        return frozenset()
    return frozenset(map(xform_name, config["pagination"]))


@cache
def waiters(service: str) -> frozenset[str]:
    """The names ``get_waiter`` accepts."""
    try:
        return frozenset(map(xform_name, _botocore().get_waiter_model(service).waiter_names))
    except botocore.exceptions.DataNotFoundError:
        return frozenset()


ALIASES = {
    "sfn": "stepfunctions",
    "states": "stepfunctions",
    "elasticmapreduce": "emr",
    "cloudwatchlogs": "logs",
    "cloudwatchevents": "events",
    "eventbridge": "events",
}
"""Names Step Functions (``aws-sdk:sfn``), optimized integrations (``elasticmapreduce``) or the
JavaScript SDK (``@aws-sdk/client-sfn``) give a service whose botocore name differs by more than
case and hyphens."""


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower().removeprefix("@aws-sdk/client-"))


@cache
def _services() -> dict[str, str]:
    data = Path(botocore.__file__).parent / "data"  # one directory per service; listing it is cheap
    names = {_normal(path.name): path.name for path in data.iterdir() if (path / "").is_dir()}
    return names | {alias: target for alias, target in ALIASES.items() if alias not in names}


def service_name(name: str) -> str | None:
    """The botocore name of a service as Step Functions, the JavaScript SDK or boto3 spell it."""
    return _services().get(_normal(name))


def operation_name(service: str, action: str) -> str | None:
    """The operation ``action`` names (``createGroup``, ``CreateGroup``), matched without case."""
    operations = {name.lower(): name for name in model(service).operation_names}
    return operations.get(action.lower())


# --- one call, validated ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One SDK call to validate: where it is, what it calls, with which parameters.

    ``parameters`` may hold :data:`HOLE` and resolved template tokens. ``states``: Step Functions
    semantics (members written with an upper-case first letter, ``EqualsValue`` for ``Equals``, JSON
    null as absent). ``coerced``: the custom-resource handler turns strings into numbers and booleans.
    ``open_ended``: the caller also passes ``**kwargs``, so required members may come from there.
    """

    place: str
    service: str
    operation: str
    parameters: Any
    states: bool = False
    coerced: bool = False
    open_ended: bool = False


def _member(shape: StructureShape, key: str, states: bool) -> str | None:
    if key in shape.members:
        return key
    if states:
        for name in shape.members:
            if name[:1].upper() + name[1:] == key or (key == "EqualsValue" and name == "Equals"):
                return str(name)
    return None


def sample(shape: Shape, depth: int = 0) -> Any:
    """A value of ``shape`` its validator accepts: the first enum value, the minimum length or value,
    one list item, the required members of a structure."""
    kind, limits = shape.type_name, shape.metadata
    if kind == "string":
        return shape.enum[0] if shape.enum else "x" * max(int(limits.get("min", 1)), 1)
    if kind in ("integer", "long"):
        return int(limits.get("min", 1))
    if kind in ("float", "double"):
        return float(limits.get("min", 1))
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return datetime(2026, 1, 1, tzinfo=UTC)
    if kind == "blob":
        return b"x"
    if kind == "list":
        return [sample(shape.member, depth + 1)] * max(int(limits.get("min", 1)), 1)
    if kind == "map":
        return {sample(shape.key, depth + 1): sample(shape.value, depth + 1)}
    assert isinstance(shape, StructureShape) and depth < 20, f"cannot sample {shape.name}"
    members = shape.required_members or (list(shape.members)[:1] if shape.is_tagged_union else [])
    return {name: sample(shape.members[name], depth + 1) for name in members}


def _fill(value: Any, shape: Shape, call: Call, path: str, problems: list[str]) -> Any:
    """``value`` with every run-time value replaced by a sample of its member; literal strings
    outside their member's enum are added to ``problems``."""
    kind = shape.type_name
    if value is HOLE:
        return sample(shape)
    if isinstance(value, str) and kind != "string" and (TOKEN.search(value) or call.coerced):
        return sample(shape)
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        filled = {}
        for key, item in value.items():
            if item is None and call.states:
                continue  # Step Functions sends a JSON null as an absent member
            name = _member(shape, key, call.states)
            if name is None:
                filled[key] = item  # the validator names it
            else:
                filled[name] = _fill(item, shape.members[name], call, f"{path}{name}.", problems)
        return filled
    if kind == "list" and isinstance(value, list):
        member = shape.member
        return [_fill(item, member, call, f"{path[:-1]}[{i}].", problems) for i, item in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        key_shape, value_shape = shape.key, shape.value
        return {
            _fill(key, key_shape, call, path, problems): _fill(
                item, value_shape, call, f"{path}{key}.", problems
            )
            for key, item in value.items()
        }
    literal = isinstance(value, str) and not TOKEN.search(value)
    if kind == "string" and literal and shape.enum and value not in shape.enum:
        problems.append(f"{path[:-1]}: {value!r} is not one of {', '.join(shape.enum)}")
    return value


DOCUMENTED_RULES: dict[tuple[str, str], Callable[[dict[str, Any]], str | None]] = {
    # The Tags member's own documentation in the model: "If you supply ModelPackageGroupName, your
    # model package belongs to the model group you specify and uses the tags associated with the
    # model group. In this case, you cannot supply a tag argument."
    ("sagemaker", "CreateModelPackage"): lambda parameters: (
        "Tags: refused together with ModelPackageGroupName (a versioned package takes its group's tags)"
        if "Tags" in parameters and "ModelPackageGroupName" in parameters
        else None
    ),
}
"""Create-time rules the model's documentation states but its shapes cannot express."""


def check(call: Call) -> list[str]:
    """What is wrong with ``call`` against its operation's input shape, one line each."""
    operation = model(call.service).operation_model(call.operation)
    prefix = f"{call.place}: {call.service}.{call.operation}:"
    shape = operation.input_shape
    if shape is None:
        return [f"{prefix} takes no parameters, got {call.parameters!r}"] if call.parameters else []
    problems: list[str] = []
    parameters = _fill(call.parameters, shape, call, "", problems)
    report = ParamValidator().validate(parameters, shape)
    if report.has_errors():
        problems += [
            line
            for line in report.generate_report().splitlines()
            if not (call.open_ended and line.startswith("Missing required parameter"))
        ]
    rule = DOCUMENTED_RULES.get((call.service, call.operation))
    problem = rule(parameters) if rule and isinstance(parameters, dict) else None
    return [f"{prefix} {line}" for line in [*problems, *([problem] if problem else [])]]


# --- Step Functions ---------------------------------------------------------------------------------


def resolve(value: Any) -> str:
    """A CloudFormation string (a literal, or an ``Fn::Join`` of literals and intrinsics) as text, each
    intrinsic replaced by a ``⟪...⟫`` token; quoted where it stands outside a JSON string."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        text = ""
        for index, part in enumerate(parts):
            if index:
                text += separator
            if isinstance(part, str):
                text += part
            else:
                token = f"⟪{_intrinsic(part)}⟫"
                inside = len(re.findall(r'(?<!\\)"', text)) % 2 == 1
                text += token if inside else json.dumps(token)
        return text
    return f"⟪{_intrinsic(value)}⟫"


def _intrinsic(value: Any) -> str:
    if isinstance(value, dict) and len(value) == 1:
        name, argument = next(iter(value.items()))
        detail = argument if isinstance(argument, str) else ".".join(map(str, argument))
        return f"{name} {detail}" if name in ("Ref", "Fn::GetAtt") else name
    return "value"


def _holes(value: Any) -> Any:
    """JSONata expressions and JSONPath ``.$`` members as :data:`HOLE`."""
    if isinstance(value, str) and value.startswith("{%") and value.endswith("%}"):
        return HOLE
    if isinstance(value, dict):
        return {
            key.removesuffix(".$"): HOLE if key.endswith(".$") else _holes(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_holes(item) for item in value]
    return value


def _rename(parameters: dict[str, Any], renames: dict[str, tuple[str, bool]]) -> dict[str, Any]:
    """Members renamed (and wrapped in a list when the raw API takes a list of them)."""
    renamed = dict(parameters)
    for old, (new, as_list) in renames.items():
        if old in renamed:
            item = renamed.pop(old)
            renamed[new] = [item] if as_list else item
    return renamed


def _as_json(parameters: dict[str, Any], member: str) -> dict[str, Any]:
    """``member`` given as a JSON value, sent as its serialization."""
    if isinstance(parameters.get(member), dict | list):
        return {**parameters, member: json.dumps(parameters[member], default=lambda _: "x")}
    return parameters


@dataclass(frozen=True)
class Optimized:
    """An optimized integration's raw API, and how its parameters differ from the raw API's."""

    service: str
    operation: str
    adapt: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda parameters: parameters)
    refuses: tuple[str, ...] = ()


OPTIMIZED: dict[tuple[str, str], Optimized] = {
    # connect-stepfunctions.html: "Input" of startExecution may be a JSON object; Step Functions
    # serializes it (the raw API takes a string).
    ("states", "startExecution"): Optimized(
        "stepfunctions", "StartExecution", lambda parameters: _as_json(parameters, "Input")
    ),
    # connect-emr.html: createCluster is runJobFlow without Steps (and the cluster must stay alive);
    # addStep is addJobFlowSteps with ClusterId and one Step; terminateCluster is terminateJobFlows
    # with one ClusterId.
    ("elasticmapreduce", "createCluster"): Optimized("emr", "RunJobFlow", refuses=("Steps",)),
    ("elasticmapreduce", "addStep"): Optimized(
        "emr",
        "AddJobFlowSteps",
        lambda parameters: _rename(parameters, {"ClusterId": ("JobFlowId", False), "Step": ("Steps", True)}),
    ),
    ("elasticmapreduce", "terminateCluster"): Optimized(
        "emr",
        "TerminateJobFlows",
        lambda parameters: _rename(parameters, {"ClusterId": ("JobFlowIds", True)}),
    ),
    # connect-lambda.html: the Payload of lambda:invoke is any JSON value.
    ("lambda", "invoke"): Optimized("lambda", "Invoke", lambda parameters: _as_json(parameters, "Payload")),
}
"""Where an optimized integration (``arn:aws:states:::<service>:<action>``) deviates from the raw
API, from the Step Functions developer guide's page for each. Every other optimized integration
(``glue:startJobRun``, ``sagemaker:createTrainingJob``, ``sns:publish``...) takes the raw API's
parameters; ``.sync``, ``.sync:2`` and ``.waitForTaskToken`` only change how Step Functions waits."""

RESOURCE = re.compile(
    r"^arn:(?:⟪[^⟫]*⟫|[^:]+):states:::(?P<sdk>aws-sdk:)?(?P<service>[^:]+):(?P<action>[A-Za-z0-9]+)"
)


@dataclass(frozen=True)
class Task:
    """A Task state that calls an AWS API."""

    place: str
    resource: str
    parameters: Any


def tasks(definition: dict[str, Any], place: str) -> Iterator[Task]:
    """Every service-integration Task of a definition, Map and Parallel states' inner ones included."""
    for name, state in definition.get("States", {}).items():
        for branch in [*state.get("Branches", []), state.get("ItemProcessor"), state.get("Iterator")]:
            if branch:
                yield from tasks(branch, place)
        resource = state.get("Resource", "")
        if state.get("Type") == "Task" and RESOURCE.match(resource):
            parameters = state.get("Arguments", state.get("Parameters", {}))
            yield Task(f"{place} state {name}", resource, _holes(parameters))


def task_call(task: Task) -> Call | str:
    """The raw API call a Task makes, or why it has none."""
    found = RESOURCE.match(task.resource)
    assert found, task.resource
    service, action = found["service"], found["action"]
    parameters = task.parameters  # a dict, or HOLE when one expression computes them all
    optimized = None if found["sdk"] else OPTIMIZED.get((service, action))
    if optimized:
        refused = [
            member for member in optimized.refuses if isinstance(parameters, dict) and member in parameters
        ]
        if refused:
            return f"{task.place}: {service}:{action}: the integration refuses {', '.join(refused)}"
        target, operation = optimized.service, optimized.operation
        parameters = optimized.adapt(parameters) if isinstance(parameters, dict) else parameters
    else:
        target = service_name(service) or ""
        if not target:
            return f"{task.place}: no service {service!r} in botocore (in {task.resource})"
        operation = operation_name(target, action) or ""
        if not operation:
            return f"{task.place}: {target} has no operation {action!r} (in {task.resource})"
    return Call(task.place, target, operation, parameters, states=True)


def template_calls(label: str, stack: str, template: dict[str, Any]) -> Iterator[Call | str]:
    """The calls of every state machine and ``AwsCustomResource`` of one template."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            definition = json.loads(resolve(properties["DefinitionString"]))
            for task in tasks(definition, f"{label} {stack} {logical_id}"):
                yield task_call(task)
        elif resource["Type"].startswith("Custom::"):
            for request in ("Create", "Update", "Delete"):
                if request in properties:
                    yield custom_resource_call(f"{label} {stack} {logical_id} {request}", properties[request])


def custom_resource_call(place: str, value: Any) -> Call | str:
    """The call of one ``AwsCustomResource`` request (a JSON string, possibly with tokens)."""
    sdk_call = json.loads(resolve(value))
    target = service_name(sdk_call["service"])
    if target is None:
        return f"{place}: no service {sdk_call['service']!r} in botocore"
    operation = operation_name(target, sdk_call["action"])
    if operation is None:
        return f"{place}: {target} has no operation {sdk_call['action']!r}"
    return Call(place, target, operation, sdk_call.get("parameters", {}), coerced=True)


def template_findings(label: str, templates: dict[str, dict[str, Any]]) -> list[str]:
    """Every finding of every state machine task and custom resource call in ``templates``."""
    findings: list[str] = []
    for stack, template in templates.items():
        for call in template_calls(label, stack, template):
            findings += [call] if isinstance(call, str) else check(call)
    return findings


# --- our Python code ------------------------------------------------------------------------------


def _literal(node: ast.expr) -> Any:
    """A Python literal as its value; anything computed as :data:`HOLE`."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Dict) and all(isinstance(key, ast.Constant) for key in node.keys):
        return {key.value: _literal(value) for key, value in zip(node.keys, node.values, strict=True)}  # type: ignore[union-attr]
    if isinstance(node, ast.List | ast.Tuple) and not any(
        isinstance(item, ast.Starred) for item in node.elts
    ):
        return [_literal(item) for item in node.elts]
    return HOLE


def _created(node: ast.AST) -> ast.Call | None:
    """``node`` if it creates a client: ``boto3.client(...)``, ``<session>.client(...)``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client":
        return node
    return None


@dataclass
class _Module:
    """The clients one module binds to names, and what the pass could not resolve."""

    path: str
    names: dict[str, set[str]] = field(default_factory=dict)
    factories: dict[str, set[str]] = field(default_factory=dict)
    unresolved: list[tuple[int, str]] = field(default_factory=list)

    def service_of(self, created: ast.Call) -> str | None:
        argument = created.args[0] if created.args else None
        for keyword in created.keywords:
            if keyword.arg == "service_name":
                argument = keyword.value
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return argument.value
        self.unresolved.append((created.lineno, ast.unparse(created)))
        return None

    def bind(self, target: ast.expr | str, value: ast.expr) -> None:
        name = target if isinstance(target, str) else getattr(target, "id", getattr(target, "attr", None))
        if name is None:
            return
        created = _created(value)
        if created is not None and (service := self.service_of(created)):
            self.names.setdefault(name, set()).add(service)
        lambda_created = _created(value.body) if isinstance(value, ast.Lambda) else None
        if lambda_created is not None and (service := self.service_of(lambda_created)):
            self.factories.setdefault(name, set()).add(service)
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in self.factories
        ):
            self.names.setdefault(name, set()).update(self.factories[value.func.id])

    def client_of(self, node: ast.expr) -> str | None:
        """The service of the client ``node`` evaluates to, if the pass can tell."""
        created = _created(node)
        if created is not None:
            argument = created.args[0] if created.args else None
            literal = isinstance(argument, ast.Constant) and isinstance(argument.value, str)
            return argument.value if literal else None  # type: ignore[union-attr]
        name = (
            node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        )
        services = self.names.get(name or "", set())
        return next(iter(services)) if len(services) == 1 else None


@dataclass(frozen=True)
class Site:
    """One method called on a client in our code, with the arguments the call passes it."""

    place: str
    service: str
    method: str
    positional: int
    keywords: dict[str, Any]
    open_ended: bool


def _sites(module: _Module, nodes: list[ast.AST]) -> Iterator[Site]:
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        target, arguments, keywords = node.func, node.args, node.keywords
        if not (isinstance(target, ast.Attribute) and module.client_of(target.value)):
            # a client's method handed to a wrapper with its arguments: aws(s3.get_object, Bucket=...)
            if not (arguments and isinstance(arguments[0], ast.Attribute)):
                continue
            if not module.client_of(arguments[0].value):
                continue
            target, arguments = arguments[0], arguments[1:]
        service = module.client_of(target.value)
        assert service is not None
        yield Site(
            f"{module.path}:{node.lineno}",
            service,
            target.attr,
            len(arguments),
            {keyword.arg: _literal(keyword.value) for keyword in keywords if keyword.arg},
            any(keyword.arg is None for keyword in keywords),
        )


def _paginated(nodes: list[ast.AST], module: _Module) -> Iterator[tuple[int, str, str, dict[str, Any], bool]]:
    """``<client>.get_paginator("x").paginate(...)``: line, service, operation method, arguments."""
    for node in nodes:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "paginate"
            and isinstance(inner := node.func.value, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr == "get_paginator"
            and (service := module.client_of(inner.func.value))
            and inner.args
            and isinstance(inner.args[0], ast.Constant)
        ):
            keywords = {keyword.arg: _literal(keyword.value) for keyword in node.keywords if keyword.arg}
            open_ended = any(keyword.arg is None for keyword in node.keywords)
            yield node.lineno, service, str(inner.args[0].value), keywords, open_ended


def site_findings(site: Site) -> list[str]:
    """What is wrong with one call site: unknown service or method, bad paginator or waiter, bad
    parameters of an API method."""
    if service_name(site.service) != site.service:
        return [f"{site.place}: no botocore service {site.service!r}"]
    api = methods(site.service)
    prefix = f"{site.place}: {site.service}.{site.method}"
    if site.method in ("get_paginator", "get_waiter"):
        return []  # see _named_helpers
    if site.method not in api:
        known = hasattr(client(site.service), site.method)  # what boto3 adds: upload_file, get_paginator...
        return [] if known else [f"{prefix}: no such method on a {site.service} client"]
    if site.positional:
        return [f"{prefix}: takes keyword arguments only, got {site.positional} positional"]
    return check(Call(site.place, site.service, api[site.method], site.keywords, open_ended=site.open_ended))


def _named_helpers(nodes: list[ast.AST], module: _Module) -> Iterator[str]:
    """Paginators and waiters named by literal that do not exist."""
    for node in nodes:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get_paginator", "get_waiter")
            and (service := module.client_of(node.func.value))
            and service_name(service) == service
        ):
            name = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            place = f"{module.path}:{node.lineno}: {service}.{node.func.attr}({name!r})"
            if not isinstance(name, str):
                yield f"{place}: name the {node.func.attr.removeprefix('get_')} by a literal"
                continue
            if node.func.attr == "get_paginator" and name not in paginators(service):
                yield f"{place}: no such paginator"
            if node.func.attr == "get_waiter" and name not in waiters(service):
                yield f"{place}: no such waiter"


def _bindings(nodes: list[ast.AST], module: _Module) -> None:
    """Names bound to clients: ``x = <client>``, ``x: T = <client>``, ``f(x=<client>)``, and client
    factories ``f(x=lambda ...: <client>)`` whose results ``y = x(...)`` are clients too. Twice, so a
    factory bound after its use still resolves."""
    for _ in range(2):
        for node in nodes:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    module.bind(target, node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                module.bind(node.target, node.value)
            elif isinstance(node, ast.keyword) and node.arg:
                module.bind(node.arg, node.value)
    for node in nodes:
        if (created := _created(node)) is not None:
            module.service_of(created)  # records a client of a service named at run time
        if (  # a client factory handed to a wrapper: aws(session.client, name)
            isinstance(node, ast.Call)
            and node.args
            and isinstance(first := node.args[0], ast.Attribute)
            and first.attr == "client"
            and not (len(node.args) > 1 and isinstance(node.args[1], ast.Constant))
        ):
            module.unresolved.append((node.lineno, ast.unparse(node)))


def code_findings(root: Path, files: list[Path], allowed: dict[str, str]) -> list[str]:
    """Every finding of the boto3 calls in ``files``; a client the pass cannot resolve to a service is
    a finding unless ``allowed`` (``path:line text`` fragment -> reason) names it."""
    findings: list[str] = []
    used: set[str] = set()
    for path in files:
        relative, source = path.relative_to(root).as_posix(), path.read_text()
        if ".client" not in source:
            continue  # no client is made or handed over here
        nodes = list(ast.walk(ast.parse(source, filename=relative)))
        module = _Module(relative)
        _bindings(nodes, module)
        for name, services in module.names.items():
            if len(services) > 1:
                findings.append(f"{relative}: {name!r} names clients of {sorted(services)}: rename one")
        for line, text in sorted(set(module.unresolved)):
            key = next((key for key in allowed if key == f"{relative}: {text}"), None)
            if key is None:
                findings.append(f"{relative}:{line}: cannot tell which service {text} is a client of")
            used.add(key or "")
        for site in _sites(module, nodes):
            findings += site_findings(site)
        for line, service, method, keywords, open_ended in _paginated(nodes, module):
            operation = methods(service).get(method)
            if operation:
                findings += check(
                    Call(f"{relative}:{line}", service, operation, keywords, open_ended=open_ended)
                )
        findings += _named_helpers(nodes, module)
    findings += [f"allow-list entry {key!r} matches nothing: remove it" for key in set(allowed) - used]
    return findings
