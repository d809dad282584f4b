"""Safe YAML reading that remembers where every key and value came from.

PyYAML's safe composer builds a node tree with positions; this module turns
that tree into plain Python data (dicts, lists, strings, numbers, booleans,
dates) and a :class:`SourceMap` from field paths to ``(line, column)``.  No
tag outside YAML's core schema is accepted, so a file can never construct a
Python object, and alias expansion is bounded so an "alias bomb" cannot
exhaust memory.
"""

from __future__ import annotations

import datetime as dt
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Diagnostic, ScenarioError
from .scalars import ambiguous_number

__all__ = ["SCENARIO_FILE", "FileKind", "Limits", "SourceMap", "read_yaml_file", "read_yaml_text"]

PathKey = tuple[str | int, ...]

_NULL_TAG = "tag:yaml.org,2002:null"
_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_READ_AS_NUMBER_OR_TEXT = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                           "tag:yaml.org,2002:str"}


@dataclass(frozen=True)
class Limits:
    """Bounds on what a scenario file may contain (see ``docs/limits.md``)."""

    max_file_bytes: int = 5_000_000
    max_nodes: int = 100_000
    max_depth: int = 64
    max_string_chars: int = 100_000
    max_expanded_chars: int = 20_000_000
    max_aliases: int = 1_000


#: The limits used unless a caller passes others.
DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class FileKind:
    """What a YAML file is for, as messages about it say: its name and how one starts."""

    name: str
    start: str


#: The kind of file read unless a caller says otherwise.
SCENARIO_FILE = FileKind("scenario file", "a scenario starts with `escalate: 1` and a `name:`")


@dataclass
class SourceMap:
    """Positions (1-based line and column) of values and keys, by field path."""

    file: str = ""
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    #: scalars written over several lines (block, folded or wrapped): their first
    #: line and column and their text as written, to place offsets inside them
    spans: dict[PathKey, tuple[int, int, str]] = field(default_factory=dict)
    #: booleans as written (``NO``, ``yes``), to explain one found where a name is wanted
    booleans: dict[PathKey, str] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> tuple[int | None, int | None]:
        """Return the position of ``path``, or of its nearest known ancestor."""
        table = (self.keys, self.values) if key else (self.values, self.keys)
        probe = tuple(path)
        while True:
            for positions in table:
                if probe in positions:
                    return positions[probe]
            if not probe:
                return None, None
            probe = probe[:-1]

    def locate_offset(self, path: PathKey, value: str, offset: int) -> tuple[int | None, int | None]:
        """The position of character ``offset`` of the string ``value`` found at ``path``.

        On one line the offset is added to the value's column; a value written
        over several lines (``|``, ``>``, a wrapped plain or quoted scalar) is
        matched against its text as written, line breaks and indentation
        skipped, since YAML changes only those.
        """
        span = self.spans.get(tuple(path))
        if span is None:
            line, column = self.locate(path)
            if column is not None and "\n" not in value[:offset]:
                column += offset
            return line, column
        line, column, written = span
        at = 0
        if written[:1] in ("|", ">"):
            at = written.find("\n") + 1  # past the block scalar's header line
        elif written[:1] in ("'", '"'):
            at = 1
        for index, char in enumerate(value[: offset + 1]):
            if char.isspace():
                continue
            found = written.find(char, at)
            if found < 0:
                break
            at = found + (index < offset)
        before = written[:at]
        breaks = before.count("\n")
        if not breaks:
            return line, column + at
        return line + breaks, at - before.rfind("\n")

    def diagnostic(
        self, path: PathKey, message: str, *, hint: str = "", key: bool = False
    ) -> Diagnostic:
        """Build a :class:`Diagnostic` placed at ``path`` in this file."""
        line, column = self.locate(path, key=key)
        return Diagnostic(
            message, path=format_path(path), file=self.file, line=line, column=column, hint=hint
        )


def format_path(path: PathKey) -> str:
    """Render a path as ``events.strike.choose.retaliate`` (indices as ``[2]``)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def read_yaml_file(path: str | Path, limits: Limits = DEFAULT_LIMITS, *,
                   kind: FileKind = SCENARIO_FILE) -> tuple[Any, SourceMap]:
    """Read a YAML file (a scenario file unless ``kind`` says) safely.

    Raises :class:`ScenarioError` on any problem, its messages naming the kind of file.
    """
    path = Path(path)
    name = str(path)
    try:
        if path.is_dir():
            raise ScenarioError([Diagnostic(f"is a directory, not {_article(kind.name)}",
                                            file=name)])
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            # Devices never end and a pipe with no writer blocks on open: refuse both unread.
            raise ScenarioError([Diagnostic(
                "is not a regular file (a device, pipe or socket)", file=name,
                hint=f"save the {kind.name} as a regular file and pass its path")])
        size = status.st_size
        if size > limits.max_file_bytes:
            raise ScenarioError([Diagnostic(
                f"file is {size:,} bytes; the limit is {limits.max_file_bytes:,}",
                file=name, hint=f"{kind.name}s are small; is this the right file?")])
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ScenarioError([Diagnostic("no such file", file=name)]) from exc
    except OSError as exc:
        raise ScenarioError([Diagnostic(f"cannot read file: {exc.strerror}", file=name)]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError([Diagnostic(
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            file=name, line=line, column=column, hint="save the file as UTF-8")]) from exc
    return read_yaml_text(text, name, limits, kind=kind)


def read_yaml_text(
    text: str, file: str = "<string>", limits: Limits = DEFAULT_LIMITS, *,
    kind: FileKind = SCENARIO_FILE,
) -> tuple[Any, SourceMap]:
    """Parse YAML text (of the ``kind`` of file) into plain data and a :class:`SourceMap`."""
    source_map = SourceMap(file=file)
    if len(text) > limits.max_file_bytes:
        raise ScenarioError([Diagnostic(
            f"text is {len(text):,} characters; the limit is {limits.max_file_bytes:,}",
            file=file)])
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise _unreadable_character(exc, text, file) from exc
    _check_nesting(text, file, limits)
    try:
        try:
            root = loader.get_single_node()
        except yaml.reader.ReaderError as exc:
            raise _unreadable_character(exc, text, file) from exc
        except yaml.MarkedYAMLError as exc:
            raise ScenarioError([_syntax_diagnostic(exc, file)]) from exc
        except yaml.YAMLError as exc:
            raise ScenarioError([Diagnostic(f"invalid YAML: {exc}", file=file)]) from exc
        except RecursionError as exc:
            raise ScenarioError([Diagnostic(
                "the YAML is nested too deeply to read", file=file,
                hint=f"at most {limits.max_depth} levels are allowed")]) from exc
        if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL_TAG
                            and not root.value):
            # A lone `---` gives an empty null document: the same as an empty file.
            raise ScenarioError([Diagnostic(
                "the file is empty", file=file, line=1, column=1, hint=kind.start)])
        _check_expanded_size(root, file, limits)
        converter = _Converter(loader, source_map, limits, text)
        data = converter.convert(root, (), 0)
        if converter.problems:
            raise ScenarioError(converter.problems)
        return data, source_map
    finally:
        loader.dispose()


def _article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _shorten(text: str, limit: int = 40) -> str:
    """Quote ``text`` for a message, cut to ``limit`` characters."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    """Place a YAML syntax error where the parser noticed it, naming where the construct began."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    context, start = exc.context, exc.context_mark
    if context and problem.startswith("but "):
        # PyYAML splits "expected X, but found Y" between context and problem.
        problem = f"{context}, {problem}"
    elif context and start is not None and (mark is None or start.line != mark.line):
        problem = f"{problem} ({context} at line {start.line + 1})"
    hint = ("indent with spaces: YAML does not allow tabs there" if "'\\t'" in problem
            else "check indentation, colons and quotes near this place")
    return Diagnostic(
        f"invalid YAML: {problem}",
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        hint=hint)


def _unreadable_character(exc: yaml.reader.ReaderError, text: str, file: str) -> ScenarioError:
    """Report a control character that YAML refuses, at its line and column."""
    position = exc.position
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return ScenarioError([Diagnostic(
        f"the control character #x{exc.character:04x} is not allowed in YAML",
        file=file, line=line, column=column,
        hint="remove control characters; tabs and line breaks are the only ones allowed")])


_SCALARS = (yaml.ScalarToken, yaml.AliasToken)
_OPENING = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
            yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _check_nesting(text: str, file: str, limits: Limits) -> None:
    """Refuse deep nesting, too many values and huge values from the token stream.

    This runs before the recursive, pure-Python parser sees the text: scanning
    is iterative (libyaml's scanner when PyYAML has it), so a file of 100,000
    brackets, millions of values or a multi-megabyte string is refused at
    once.  Syntax errors are left to the parser, which reports them with more
    context.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None and _scan(fast, text, file, limits):
        return
    # No libyaml, or it stopped: recent libyaml refuses nesting past its own limit
    # (1,000 levels) before yielding the tokens where ours is passed. The Python
    # scanner, slower but with no limit of its own, finds ours.
    _scan(yaml.SafeLoader, text, file, limits)


def _scan(loader: Any, text: str, file: str, limits: Limits) -> bool:
    """:func:`_check_nesting` with one scanner; False if the scanner itself stopped."""
    scanner = loader(text)
    depth = 0
    values = 0
    aliases = 0
    try:
        while scanner.check_token():
            token = scanner.get_token()
            if isinstance(token, _SCALARS + _OPENING):
                values += 1
                if values > limits.max_nodes:
                    raise _too_many_values(token.start_mark, file, limits)
            if isinstance(token, yaml.AliasToken):
                aliases += 1
                if aliases > limits.max_aliases:
                    raise ScenarioError([Diagnostic(
                        f"more than {limits.max_aliases:,} YAML aliases", file=file,
                        line=token.start_mark.line + 1, column=token.start_mark.column + 1,
                        hint="scenario files need few aliases; write the values out")])
            if isinstance(token, yaml.ScalarToken) and len(token.value) > limits.max_string_chars:
                raise ScenarioError([Diagnostic(
                    f"a value of {len(token.value):,} characters; the limit is "
                    f"{limits.max_string_chars:,}", file=file, line=token.start_mark.line + 1,
                    column=token.start_mark.column + 1)])
            if isinstance(token, _OPENING):
                depth += 1
                # The document's own collection is level 0, as in _Converter.
                if depth - 1 > limits.max_depth:
                    raise ScenarioError([Diagnostic(
                        f"nested more than {limits.max_depth} levels deep", file=file,
                        line=token.start_mark.line + 1, column=token.start_mark.column + 1,
                        hint="scenario files need only a few levels")])
            elif isinstance(token, _CLOSING):
                depth -= 1
    except ScenarioError:
        raise
    except (yaml.YAMLError, ValueError):
        return False
    finally:
        scanner.dispose()
    return True


def _too_many_values(mark: Any, file: str, limits: Limits) -> ScenarioError:
    return ScenarioError([Diagnostic(
        f"the document has more than {limits.max_nodes:,} values (after expanding aliases)",
        file=file, line=mark.line + 1, column=mark.column + 1,
        hint="YAML aliases that expand without bound are refused")])


def _check_expanded_size(root: Node, file: str, limits: Limits) -> None:
    """Refuse documents whose aliases would expand past the limits on values and text.

    Aliases share nodes, so sizes are computed once per node: an "alias bomb"
    (many aliases, or one long string aliased many times) is measured without
    being expanded.
    """
    sizes: dict[int, tuple[int, int]] = {}
    in_progress: set[int] = set()

    def size(node: Node) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise ScenarioError([Diagnostic(
                "an alias refers to the collection that contains it", file=file,
                line=node.start_mark.line + 1, column=node.start_mark.column + 1,
                hint="recursive YAML structures are not allowed")])
        in_progress.add(key)
        count, chars = 1, 0
        children: list[Node] = []
        if isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, SequenceNode):
            children = list(node.value)
        else:
            chars = len(node.value)
        for child in children:
            child_count, child_chars = size(child)
            count += child_count
            chars += child_chars
        in_progress.discard(key)
        if count > limits.max_nodes:
            raise _too_many_values(node.start_mark, file, limits)
        if chars > limits.max_expanded_chars:
            raise ScenarioError([Diagnostic(
                f"the document holds more than {limits.max_expanded_chars:,} characters of "
                "text once its aliases are expanded", file=file,
                line=node.start_mark.line + 1, column=node.start_mark.column + 1,
                hint="YAML aliases that expand without bound are refused")])
        sizes[key] = (count, chars)
        return count, chars

    size(root)


class _Converter:
    """Walks a composed node tree, checking tags and bounds, recording positions."""

    def __init__(self, loader: yaml.SafeLoader, source_map: SourceMap, limits: Limits,
                 text: str) -> None:
        self.loader = loader
        self.text = text
        self.map = source_map
        self.limits = limits
        self.nodes = 0
        self.problems: list[Diagnostic] = []

    def _fail(self, node: Node, message: str, hint: str = "", path: PathKey = ()) -> ScenarioError:
        return ScenarioError([Diagnostic(
            message, path=format_path(path), file=self.map.file, line=node.start_mark.line + 1,
            column=node.start_mark.column + 1, hint=hint)])

    def convert(self, node: Node, path: PathKey, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise self._fail(node, f"the document has more than {self.limits.max_nodes:,} "
                             "values (after expanding aliases)",
                             hint="YAML aliases that expand without bound are refused")
        if depth > self.limits.max_depth:
            raise self._fail(node, f"nested more than {self.limits.max_depth} levels deep")
        if node.tag not in _CORE_TAGS:
            raise self._fail(node, f"the YAML tag {node.tag!r} is not allowed",
                             hint="scenario files use plain YAML values only")
        # Quoted scalars: point at the first character inside the quotes, so that
        # offsets within an expression land on the right column.
        inside = 1 if isinstance(node, ScalarNode) and node.style in ("'", '"') else 0
        self.map.values.setdefault(
            path, (node.start_mark.line + 1, node.start_mark.column + 1 + inside)
        )
        if isinstance(node, ScalarNode) and node.end_mark.line > node.start_mark.line:
            self.map.spans.setdefault(path, (
                node.start_mark.line + 1, node.start_mark.column + 1,
                self.text[node.start_mark.index:node.end_mark.index]))
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        if len(node.value) > self.limits.max_string_chars:
            raise self._fail(node, f"a value of {len(node.value):,} characters; the limit is "
                             f"{self.limits.max_string_chars:,}", path=path)
        if node.style is None and node.tag in _READ_AS_NUMBER_OR_TEXT:
            ambiguous = ambiguous_number(node.value)
            if ambiguous is not None:
                message, hint = ambiguous
                self.problems.append(self._fail(node, message, hint, path).diagnostics[0])
                return node.value
        constructor = SafeConstructor.yaml_constructors[node.tag]
        try:
            value = constructor(self.loader, node)
        except (ValueError, yaml.YAMLError) as exc:
            raise self._fail(node, f"cannot read the value {_shorten(node.value)}: {exc}",
                             path=path) from exc
        if isinstance(value, bool):
            self.map.booleans[path] = node.value
        if isinstance(value, dt.datetime):
            raise self._fail(node, f"{node.value!r}: times of day are not supported",
                             hint="write a date (2024-11-17) or a duration from the start",
                             path=path)
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                float(value)
            except OverflowError as exc:
                # Every number ends up as a float; refuse here rather than crash later.
                raise self._fail(node, f"the number {_shorten(node.value)} is too large",
                                 hint="numbers must be below about 1e308", path=path) from exc
        return value

    def _mapping(self, node: MappingNode, path: PathKey, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in self._pairs(node):
            if not isinstance(key_node, ScalarNode):
                raise self._fail(key_node, "a key must be a plain name, not a list or mapping")
            key = key_node.value
            key_path = (*path, key)
            if key in result:
                line, _ = self.map.keys[key_path]
                self.problems.append(Diagnostic(
                    f"duplicate key {key!r} (first defined at line {line})",
                    path=format_path(key_path), file=self.map.file,
                    line=key_node.start_mark.line + 1, column=key_node.start_mark.column + 1,
                    hint="names must be unique; rename or merge the two entries"))
                continue
            self.map.keys[key_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.convert(value_node, key_path, depth + 1)
        return result

    def _pairs(self, node: MappingNode) -> Iterator[tuple[Node, Node]]:
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self._fail(key_node, "YAML merge keys (<<) are not supported",
                                 hint="write the fields out")
            yield key_node, value_node
