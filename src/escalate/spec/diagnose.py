"""Turning pydantic validation errors into positioned, readable diagnostics.

Scenario files and the other YAML files the package reads (observations for
``escalate score``) are checked by frozen pydantic models; this module words
their errors for a person, whichever model found them.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic
from . import model
from .scalars import boolean_hint
from .source import PathKey, SourceMap
from .suggest import closest_names, did_you_mean

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


#: what a fixed-length list holds, and how to write it, by the field that holds it
_SHAPES: dict[str, tuple[str, str]] = {
    "ci90": ("[low, high]", ("a 90% interval has two ends, e.g. `ci90: [3%, 25%]`; for a low, "
                             "most likely and high value use `uncertainty: {pert: [low, mode, "
                             "high]}`")),
    "range": ("[low, high]", "the lowest and highest values the parameter may take"),
    "uniform": ("[low, high]", "e.g. `{uniform: [1 week, 3 weeks]}`"),
    "triangular": ("[low, mode, high]", "e.g. `{triangular: [1 day, 3 days, 10 days]}`"),
    "pert": ("[low, mode, high]", "e.g. `{pert: [5%, 10%, 30%]}`"),
}
#: what to write in a list or mapping that must not be empty, by its field
_NOT_EMPTY_HINTS = {
    "empirical": "list the delays seen in the past, e.g. `{empirical: [2 days, 5 days, 9 days]}`",
    "events": "a scenario needs at least one event, e.g. `start: {at: 0}`",
}

#: what to do with a text over its limit, by its field
_TOO_LONG_HINTS = {
    "name": "the name is a short title: keep it under the limit and put the rest in "
            "`description:`",
    "": "shorten it: a label is a few words, a description a few paragraphs",
}


def _alternatives(annotation: Any) -> list[Any]:
    """Take ``Annotated``, ``Optional`` and unions apart into the types they allow."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _alternatives(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [option for arg in get_args(annotation) for option in _alternatives(arg)]
    return [annotation]


def _annotations_at(root: type[BaseModel], path: PathKey) -> list[Any]:
    """Return the types the value at ``path`` may have, following fields, mappings and lists."""
    found: list[Any] = [root]
    for part in path:
        following: list[Any] = []
        for option in (o for annotation in found for o in _alternatives(annotation)):
            origin, args = get_origin(option), get_args(option)
            if isinstance(option, type) and issubclass(option, BaseModel):
                following.extend(info.annotation for name, info in option.model_fields.items()
                                 if part in (name, info.alias))
            elif origin is dict and args:
                following.append(args[1])
            elif origin is list and args and isinstance(part, int):
                following.append(args[0])
            elif origin is tuple and args and isinstance(part, int):
                following.append(args[0] if args[-1] is Ellipsis else args[min(part, len(args) - 1)])
        found = following
    return found


def _models_at(root: type[BaseModel], path: PathKey) -> list[type[BaseModel]]:
    """Return the model classes that may describe the mapping at ``path``."""
    return [option for annotation in _annotations_at(root, path)
            for option in _alternatives(annotation)
            if isinstance(option, type) and issubclass(option, BaseModel)]


def _tuple_length(root: type[BaseModel], path: PathKey) -> int | None:
    """Return how many items the fixed-length list at ``path`` holds, if it is one."""
    for annotation in _annotations_at(root, path):
        for option in _alternatives(annotation):
            args = get_args(option)
            if get_origin(option) is tuple and args and args[-1] is not Ellipsis:
                return len(args)
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


def _field_of(path: PathKey) -> str:
    """The name of the field a path ends in (list positions skipped)."""
    return next((str(part) for part in reversed(path) if isinstance(part, str)), "")


def _is_type_error(kind: str, path: PathKey, version_field: str) -> bool:
    """Tell whether an error only says the value is of the wrong kind."""
    return kind in _EXPECTED or (kind == "literal_error" and path != (version_field,))


def _is_length_error(item: Any) -> bool:
    """Tell whether an error says a list or mapping has too few or too many items.

    A fixed-length list that is too short gets a "missing" error per absent
    position, with the position last in its location.
    """
    loc = item["loc"]
    return item["type"] in ("too_short", "too_long") or (
        item["type"] == "missing" and bool(loc) and isinstance(loc[-1], int))


def _expectation(item: Any) -> str:
    if item["type"] == "literal_error":
        return str(item.get("ctx", {}).get("expected", "one of the allowed words"))
    return _EXPECTED[item["type"]]


def _merged_type_errors(
    items: list[tuple[Any, PathKey]], source_map: SourceMap, version_field: str,
    hints: Mapping[str, str],
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
        if not _is_type_error(item["type"], path, version_field):
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
        value = group[0].get("input")
        found, hint = _describe(value), hints.get(_field_of(path), "")
        if isinstance(value, bool) and _EXPECTED["string_type"] in expected:
            # `NO`, `yes`, `on` where a name is wanted: YAML 1.1 made it a boolean.
            found, hint = boolean_hint(source_map.booleans.get(path, str(value).lower()), value)
        merged[path] = source_map.diagnostic(path, f"expected {wanted}, found {found}", hint=hint)
    return merged


def _counted(count: int, noun: str) -> str:
    """``1 value``, ``3 values``, ``2 entries``."""
    if count == 1:
        return f"{count:,} {noun}"
    return f"{count:,} {noun[:-1]}ies" if noun.endswith("y") else f"{count:,} {noun}s"


def _length_errors(
    items: list[tuple[Any, PathKey]], root: type[BaseModel], source_map: SourceMap,
    hints: Mapping[str, str],
) -> dict[PathKey, Diagnostic]:
    """Say once per list or mapping how many items it should have and how many it has."""
    found: dict[PathKey, Diagnostic] = {}
    for item, path in items:
        if not _is_length_error(item) or path in found:
            continue
        value = item.get("input")
        noun = "entry" if isinstance(value, dict) else "value"
        count = len(value) if isinstance(value, list | dict) else 0
        has = _counted(count, noun) if count else "none"
        field = _field_of(path)
        length = _tuple_length(root, path)
        ctx = item.get("ctx", {})
        if length is not None:
            form, hint = _SHAPES.get(field, ("", ""))
            message = f"expected {_counted(length, 'value')} {form}".rstrip()
        elif item["type"] == "too_long":
            hint = hints.get(field, "")
            message = f"expected at most {_counted(int(ctx.get('max_length', 0)), noun)}"
        else:
            hint = _NOT_EMPTY_HINTS.get(field, "") or hints.get(field, "")
            message = f"expected at least {_counted(int(ctx.get('min_length', 1)), noun)}"
        found[path] = source_map.diagnostic(path, f"{message}, found {has}", hint=hint)
    return found


def _misspelt_required(items: list[tuple[Any, PathKey]]) -> dict[tuple[PathKey, str], str]:
    """Pair each unknown field with the missing required field it is a misspelling of.

    ``occured: true`` where ``occurred`` is required is one mistake, reported
    once: as an unknown field whose hint names the required one.
    """
    missing: dict[PathKey, list[str]] = {}
    for item, path in items:
        if item["type"] == "missing" and not _is_length_error(item):
            missing.setdefault(path, []).append(str(item["loc"][-1]))
    renamed: dict[tuple[PathKey, str], str] = {}
    for item, path in items:
        if item["type"] == "extra_forbidden" and path:
            field, parent = str(path[-1]), path[:-1]
            close = closest_names(field, missing.get(parent, ()))
            if close:
                renamed[(parent, field)] = close[0]
    return renamed


def diagnostics_from_validation(
    error: ValidationError, data: Any, source_map: SourceMap, *,
    root: type[BaseModel] = model.ScenarioSpec, version_field: str = "escalate",
    hints: Mapping[str, str] | None = None,
) -> list[Diagnostic]:
    """Explain each pydantic error with position, field path, expectation and a hint.

    ``root`` is the model that validated ``data`` (a scenario unless told
    otherwise), ``version_field`` its format-version field, and ``hints``
    maps field names to what to write there, for values of the wrong kind.
    """
    hints = hints or {}
    found: list[Diagnostic] = []
    items = [(item, _data_path(data, tuple(item["loc"])))
             for item in error.errors(include_url=False)]
    merged = _merged_type_errors(items, source_map, version_field, hints)
    lengths = _length_errors(items, root, source_map, hints)
    renamed = _misspelt_required(items)
    explained = {(parent, required) for (parent, _), required in renamed.items()}
    for item, path in items:
        loc = tuple(item["loc"])
        kind = item["type"]
        value = item.get("input")
        if _is_type_error(kind, path, version_field) or _is_length_error(item):
            diagnostic = merged.pop(path, None) or lengths.pop(path, None)
            if diagnostic is not None:
                found.append(diagnostic)
            continue
        if kind == "extra_forbidden":
            parent = path[:-1] if path and path == _data_path(data, loc) else path
            field = str(loc[-1])
            if (parent, field) in renamed:
                hint = f"did you mean `{renamed[(parent, field)]}`?"
            else:
                names = [name for owner in _models_at(root, parent) for name in _field_names(owner)]
                hint = did_you_mean(field, names, kind="fields") if names else ""
            found.append(source_map.diagnostic(
                (*parent, field), f"unknown field {field!r}", hint=hint, key=True))
        elif kind == "missing":
            field = str(loc[-1])
            if (path, field) not in explained:
                found.append(source_map.diagnostic(
                    path, f"missing required field {field!r}", hint=f"add `{field}:` here"))
        elif kind == "union_tag_invalid":
            field = _field_of(path)
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
        elif kind == "literal_error" and path == (version_field,):
            expected = item.get("ctx", {}).get("expected", "")
            found.append(source_map.diagnostic(
                path, f"unsupported format version {value!r}; this version reads format "
                f"{expected}", hint=f"write `{version_field}: {expected}`"))
        elif kind == "string_too_long":
            limit = int(item.get("ctx", {}).get("max_length", 0))
            field = _field_of(path)
            found.append(source_map.diagnostic(
                path, f"the text has {len(str(value)):,} characters; the limit for `{field}` "
                f"is {limit:,}", hint=_TOO_LONG_HINTS.get(field, _TOO_LONG_HINTS[""])))
        else:
            message = item["msg"]
            message = message.removeprefix("Value error, ")
            found.append(source_map.diagnostic(
                path, f"{message[0].lower()}{message[1:]}, found {_describe(value)}"))
    return found
