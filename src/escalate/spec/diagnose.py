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
    "model_type": "a mapping (key: value lines)",
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
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
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


def _is_type_error(kind: str, path: PathKey) -> bool:
    """Tell whether an error only says the value is of the wrong kind."""
    return kind in _EXPECTED or (kind == "literal_error" and path != ("escalate",))


def _expectation(item: Any) -> str:
    if item["type"] == "literal_error":
        return str(item.get("ctx", {}).get("expected", "one of the allowed words"))
    return _EXPECTED[item["type"]]


def _merged_type_errors(
    items: list[tuple[Any, PathKey]], source_map: SourceMap
) -> dict[PathKey, Diagnostic]:
    """Turn the per-member errors of a union into one message per value.

    A value that fits no member of ``bool | int | float | str`` gets one error
    per member from pydantic; a user wants one sentence listing what would do.
    When one member got further into the value (a list whose item is wrong),
    the shallower "wrong kind" errors of the other members are dropped.
    """
    paths = [path for _, path in items]
    grouped: dict[PathKey, list[Any]] = {}
    for item, path in items:
        if not _is_type_error(item["type"], path):
            continue
        if any(len(other) > len(path) and other[: len(path)] == path for other in paths):
            continue
        grouped.setdefault(path, []).append(item)
    merged: dict[PathKey, Diagnostic] = {}
    for path, group in grouped.items():
        if any(item["type"] == "finite_number" for item in group):
            expected = [_EXPECTED["finite_number"]]
        else:
            expected = list(dict.fromkeys(_expectation(item) for item in group))
            if _EXPECTED["float_type"] in expected and _EXPECTED["int_type"] in expected:
                expected.remove(_EXPECTED["int_type"])
        if len(expected) > 1:
            expected = [e.replace("true or false", "true/false") for e in expected]
            wanted = ", ".join(expected[:-1]) + " or " + expected[-1]
        else:
            wanted = expected[0]
        merged[path] = source_map.diagnostic(
            path, f"expected {wanted}, found {_describe(group[0].get('input'))}")
    return merged


def diagnostics_from_validation(
    error: ValidationError, data: Any, source_map: SourceMap
) -> list[Diagnostic]:
    """Explain each pydantic error with position, field path, expectation and a hint."""
    found: list[Diagnostic] = []
    items = [(item, _data_path(data, tuple(item["loc"])))
             for item in error.errors(include_url=False)]
    merged = _merged_type_errors(items, source_map)
    for item, path in items:
        loc = tuple(item["loc"])
        kind = item["type"]
        value = item.get("input")
        if _is_type_error(kind, path):
            diagnostic = merged.pop(path, None)
            if diagnostic is not None:
                found.append(diagnostic)
            continue
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
        else:
            message = item["msg"]
            message = message.removeprefix("Value error, ")
            found.append(source_map.diagnostic(
                path, f"{message[0].lower()}{message[1:]}, found {_describe(value)}"))
    return found
