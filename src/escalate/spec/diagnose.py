"""Turning pydantic validation errors into positioned, readable diagnostics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic
from . import model
from .source import PathKey, SourceMap
from .suggest import did_you_mean

__all__ = ["diagnostics_from_validation"]

_KIND_CHOICES = {
    "after": model.DELAY_KINDS,
    "every": model.DELAY_KINDS,
    "uncertainty": model.UNCERTAINTY_KINDS,
}

_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "dict_type": "a mapping (key: value lines)",
    "list_type": "a list",
    "tuple_type": "a list",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "finite_number": "a finite number",
}


def _model_at(path: PathKey) -> type[BaseModel] | None:
    """Return the model class that describes the mapping at ``path``."""
    if not path:
        return model.ScenarioSpec
    head, rest = path[0], path[1:]
    by_collection: dict[str, type[BaseModel]] = {
        "events": model.Event, "parameters": model.Parameter, "outcomes": model.Outcome,
    }
    if head in by_collection and len(rest) == 1:
        return by_collection[str(head)]
    if head == "events" and len(rest) == 2 and rest[1] == "repeat":
        return model.Repeat
    if head == "sources" and len(rest) == 1:
        return model.Source
    if head == "ladder" and len(rest) == 1:
        return model.Level
    if head == "actors" and len(rest) == 1:
        return model.Actor
    return None


def _field_names(cls: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in cls.model_fields.items()]


def _data_path(data: Any, loc: tuple[int | str, ...]) -> PathKey:
    """Follow ``loc`` through the data, dropping the union tags pydantic inserts."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
    return tuple(path)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}" if not isinstance(value, str) else text


def diagnostics_from_validation(
    error: ValidationError, data: Any, source_map: SourceMap
) -> list[Diagnostic]:
    """Explain each pydantic error with position, field path, expectation and a hint."""
    found: list[Diagnostic] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        kind = item["type"]
        path = _data_path(data, loc)
        value = item.get("input")
        if kind == "extra_forbidden":
            parent = path[:-1] if path and path == _data_path(data, loc) else path
            field = str(loc[-1])
            owner = _model_at(parent)
            hint = did_you_mean(field, _field_names(owner), kind="fields") if owner else ""
            found.append(source_map.diagnostic(
                (*parent, field), f"unknown field {field!r}", hint=hint, key=True))
        elif kind == "missing":
            field = str(loc[-1])
            found.append(source_map.diagnostic(
                path, f"missing required field {field!r}",
                hint=f"add `{field}:` here"))
        elif kind == "union_tag_invalid":
            field = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
            choices = _KIND_CHOICES.get(field, ())
            tag = item.get("ctx", {}).get("tag", "?")
            if tag == "many-keys":
                message = "expected a mapping with a single key naming the distribution"
                hint = "for example `{exponential: {mean: 2 days}}`"
            else:
                message = f"unknown distribution {tag!r}; expected one of {', '.join(choices)}"
                hint = did_you_mean(str(tag), choices)
            found.append(source_map.diagnostic(path, message, hint=hint))
        elif kind == "union_tag_not_found" or kind == "model_attributes_type":
            found.append(source_map.diagnostic(
                path, f"expected a number, a duration or a one-key distribution mapping, "
                f"found {_describe(value)}"))
        elif kind == "literal_error" and path == ("escalate",):
            found.append(source_map.diagnostic(
                path, f"unsupported format version {value!r}; this version reads format "
                f"{model.FORMAT_VERSION}", hint=f"write `escalate: {model.FORMAT_VERSION}`"))
        elif kind in _EXPECTED:
            found.append(source_map.diagnostic(
                path, f"expected {_EXPECTED[kind]}, found {_describe(value)}"))
        else:
            message = item["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, "):]
            found.append(source_map.diagnostic(
                path, f"{message[0].lower()}{message[1:]}, found {_describe(value)}"))
    return found
