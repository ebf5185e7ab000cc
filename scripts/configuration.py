"""``docs/configuration.md``: every settings key, from the settings model and each environment's file.

A section per model (its docstring), a row per key: its type, the values or bounds its validators
allow, its default, its description (the docstring under the field, so it is written once, next to
the rule it describes), and each environment's value. :func:`configuration_doc` writes it; ``make
docs`` saves it and a test fails when it is stale.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from config.settings import Settings

BOUNDS = {
    annotated_types.Ge: ("ge", ">= {}"),
    annotated_types.Gt: ("gt", "> {}"),
    annotated_types.Le: ("le", "<= {}"),
    annotated_types.Lt: ("lt", "< {}"),
    annotated_types.MinLen: ("min_length", "at least {} items"),
    annotated_types.MaxLen: ("max_length", "at most {} items"),
}
"""The bounds pydantic keeps in a field's metadata: the attribute with the limit, and how to show it."""


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The settings models ``annotation`` holds (itself, in a list, or optional)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in _models(argument)]


def _type(annotation: Any) -> str:
    """A reader's name of a field's type: ``int``, ``list of str``, ``one of: a, b``, ``... or null``."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return "one of: " + ", ".join(f"`{json.dumps(value)}`" for value in arguments)
    if origin in (typing.Union, types.UnionType):
        named = [_type(argument) for argument in arguments if argument is not type(None)]
        return " or ".join(named) + (" or null" if type(None) in arguments else "")
    if origin is typing.Annotated:
        return _type(arguments[0])
    if origin is list:
        return f"list of {_type(arguments[0])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


def _bounds(field: FieldInfo) -> str:
    """The bounds the field's metadata sets (``>= 1``, ``at most 50 items``)."""
    found = []
    for item in field.metadata:
        for kind, (limit, text) in BOUNDS.items():
            if isinstance(item, kind):
                found.append(text.format(getattr(item, limit)))
    return ", ".join(found)


def _value(value: Any) -> str:
    """A value as YAML would show it, shortened."""
    text = json.dumps(value, ensure_ascii=False, default=lambda model: model.model_dump())
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"


def _at(settings: BaseModel | None, name: str) -> Any:
    return getattr(settings, name, None) if settings is not None else None


def _sections(
    model: type[BaseModel], key: str, values: dict[str, BaseModel | None]
) -> list[tuple[str, type[BaseModel], dict[str, BaseModel | None]]]:
    """``(key, model, each environment's value or None)`` of ``model`` and every section below it
    (a list of sections, such as Studio's users, is shown whole in its parent's row)."""
    found = [(key, model, values)]
    for name, field in model.model_fields.items():
        for sub in _models(field.annotation):
            below = {env: _at(value, name) for env, value in values.items()}
            inner = {env: value if isinstance(value, sub) else None for env, value in below.items()}
            found += _sections(sub, f"{key}.{name}" if key else name, inner)
    return found


def _cell(settings: BaseModel | None, name: str) -> str:
    """An environment's value of a field: ``(section)`` for a section, ``-`` where its section is absent."""
    if settings is None:
        return "-"
    if isinstance(_at(settings, name), BaseModel):
        return "(section)"
    return _value(_at(settings, name))


def configuration_doc(environments: dict[str, Settings]) -> str:
    """The whole of ``docs/configuration.md`` for ``environments`` (name -> settings)."""
    names = list(environments)
    lines = [
        "# Configuration (generated)",
        "",
        "Written by `make docs` from the settings model (`config/settings.py` and `config/sections/`) and"
        " `config/<env>.yaml`; do not edit by hand: a key's description is the docstring under its field,"
        " next to its validator. A bad value stops synth with one line that names the file, the key, the"
        " value and what is allowed. Keys without a default are required.",
        "",
    ]
    for key, model, values in _sections(Settings, "", dict(environments)):
        title = f"`{key}`" if key else "Top level"
        lines += [f"## {title}", "", " ".join((model.__doc__ or "").split()), ""]
        header = ["key", "type", "allowed", "default", "what it does", *names]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name, field in model.model_fields.items():
            default = "" if field.default is PydanticUndefined else _value(field.default)
            described = " ".join((field.description or "").split()).replace("|", "\\|")
            cells = [
                f"`{key + '.' if key else ''}{name}`",
                _type(field.annotation).replace("|", "\\|"),
                _bounds(field),
                default,
                described,
                *(_cell(values[env], name) for env in names),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
