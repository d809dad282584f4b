"""Safe YAML reading: plain data, positions of keys and values, refusals and limits."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from escalate.errors import ScenarioError
from escalate.spec.source import (
    FileKind,
    Limits,
    SourceMap,
    format_path,
    read_yaml_file,
    read_yaml_text,
)


def problems(
    text: str, limits: Limits | None = None
) -> list[tuple[int | None, int | None, str]]:
    """Return ``(line, column, message)`` of each problem reading ``text``."""
    with pytest.raises(ScenarioError) as info:
        read_yaml_text(text, "s.yaml", limits or Limits())
    return [(d.line, d.column, d.message) for d in info.value.diagnostics]


# --- data ---------------------------------------------------------------------------------------


def test_reads_plain_data() -> None:
    """Mappings, lists, strings, numbers, booleans, null and dates become plain Python values."""
    data, _ = read_yaml_text(
        "a: 1\nb: 2.5\nc: true\nd: ~\ne: 2030-03-01\nf: [x, 'y']\ng: {h: 4 days}\n"
    )

    assert data == {"a": 1, "b": 2.5, "c": True, "d": None, "e": dt.date(2030, 3, 1),
                    "f": ["x", "y"], "g": {"h": "4 days"}}


def test_keys_are_kept_as_written() -> None:
    """A key is its text, even when YAML would read it as a number or boolean."""
    data, _ = read_yaml_text("1: a\ntrue: b\n~: c\n")

    assert data == {"1": "a", "true": "b", "~": "c"}


def test_explicit_core_tags_are_allowed() -> None:
    """Tags of YAML's core schema (``!!str``, ``!!int``) may be written out."""
    data, _ = read_yaml_text("a: !!str 5\nb: !!int '7'\n")

    assert data == {"a": "5", "b": 7}


# --- positions ----------------------------------------------------------------------------------


def test_positions_of_keys_and_values_in_block_style() -> None:
    """Keys and values are placed at their 1-based line and column."""
    _, source_map = read_yaml_text("a: 1\nb:\n  c: x\n")

    assert source_map.keys[("a",)] == (1, 1)
    assert source_map.values[("a",)] == (1, 4)
    assert source_map.keys[("b", "c")] == (3, 3)
    assert source_map.values[("b", "c")] == (3, 6)


def test_positions_inside_flow_collections() -> None:
    """Keys and values in ``{...}`` and ``[...]`` are placed where they are on the line."""
    _, source_map = read_yaml_text("events:\n  clash: {at: 0, then: [a, b]}\n")

    assert source_map.values[("events", "clash")] == (2, 10)
    assert source_map.keys[("events", "clash", "then")] == (2, 18)
    assert source_map.values[("events", "clash", "then", 1)] == (2, 28)


def test_positions_of_list_items() -> None:
    """Items of a block list are placed after their dash."""
    _, source_map = read_yaml_text("items:\n  - 5\n  - [x, y]\n")

    assert source_map.values[("items", 0)] == (2, 5)
    assert source_map.values[("items", 1, 1)] == (3, 9)


@pytest.mark.parametrize(
    ("text", "column"),
    [("when: level > 1\n", 7), ("when: 'level > 1'\n", 8), ('when: "level > 1"\n', 8)],
    ids=["plain", "single-quoted", "double-quoted"],
)
def test_quoted_value_column_is_inside_the_quotes(text: str, column: int) -> None:
    """A quoted value is placed at its first character, so expression offsets add up."""
    _, source_map = read_yaml_text(text)

    assert source_map.values[("when",)] == (1, column)


def test_locate_falls_back_to_the_nearest_ancestor() -> None:
    """A path that is not in the file is placed at the closest enclosing value (or the top)."""
    _, source_map = read_yaml_text("a:\n  b: 1\n")

    assert source_map.locate(("a", "b", "missing")) == (2, 6)
    assert source_map.locate(("nowhere",)) == (1, 1)


def test_locate_can_prefer_the_key() -> None:
    """With ``key=True`` a path is placed at its key rather than its value."""
    _, source_map = read_yaml_text("a:\n  b: 1\n")

    assert source_map.locate(("a", "b"), key=True) == (2, 3)
    assert source_map.locate(("a", "b")) == (2, 6)


def test_diagnostic_carries_file_path_and_position() -> None:
    """``SourceMap.diagnostic`` builds a located diagnostic with the field path."""
    _, source_map = read_yaml_text("events:\n  x: {then: [a]}\n", "s.yaml")

    diagnostic = source_map.diagnostic(("events", "x", "then", 0), "unknown event 'a'", hint="h")

    assert str(diagnostic) == "s.yaml:2:14: events.x.then[0]: unknown event 'a' (hint: h)"


def test_empty_source_map_has_no_positions() -> None:
    """A source map with nothing recorded places nothing."""
    assert SourceMap().locate(("a",)) == (None, None)


@pytest.mark.parametrize(
    ("path", "text"),
    [((), ""), (("events",), "events"), (("events", "x", 0, "y"), "events.x[0].y"),
     ((0, 1), "[0][1]")],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    """Field paths read as dotted names with list indices in brackets."""
    assert format_path(path) == text


# --- duplicate keys -----------------------------------------------------------------------------


def test_duplicate_key_is_reported_at_the_second_occurrence() -> None:
    """A repeated key is reported where it repeats, naming the line of the first."""
    message = r"duplicate key 'a' \(first defined at line 1\)"
    with pytest.raises(ScenarioError, match=message) as info:
        read_yaml_text("a: 1\nb: 2\na: 3\n", "s.yaml")

    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.line, diagnostic.column, diagnostic.path) == (3, 1, "a")
    assert "unique" in diagnostic.hint


def test_all_duplicate_keys_are_reported_together() -> None:
    """Every duplicate in the file is reported at once, nested ones with their path."""
    found = problems("a: 1\na: 2\nevents:\n  x: {}\n  x: {}\n")

    assert found == [
        (2, 1, "duplicate key 'a' (first defined at line 1)"),
        (5, 3, "duplicate key 'x' (first defined at line 4)"),
    ]


def test_duplicate_key_in_flow_mapping() -> None:
    """A key repeated inside ``{...}`` is found too, at its column."""
    assert problems("a: {b: 1, b: 2}\n") == [(1, 11, "duplicate key 'b' (first defined at line 1)")]


# --- tags and other refusals --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object/apply:os.system [ls]\n",
         "tag:yaml.org,2002:python/object/apply:os.system"),
        ("a: !!python/name:os.system\n", "tag:yaml.org,2002:python/name:os.system"),
        ("a: !custom value\n", "!custom"),
        ("a: !!binary aGVsbG8=\n", "tag:yaml.org,2002:binary"),
        ("a: !!set {x, y}\n", "tag:yaml.org,2002:set"),
        ("a: !!omap [x: 1]\n", "tag:yaml.org,2002:omap"),
    ],
    ids=["python-apply", "python-name", "local", "binary", "set", "omap"],
)
def test_tags_outside_the_core_schema_are_refused(text: str, tag: str) -> None:
    """No tag beyond plain YAML values is accepted, so nothing can construct an object."""
    assert problems(text) == [(1, 4, f"the YAML tag {tag!r} is not allowed")]


def test_merge_key_is_refused() -> None:
    """``<<`` merge keys are refused at their position."""
    assert problems("base: &b {x: 1}\nc: {<<: *b}\n") == [
        (2, 5, "YAML merge keys (<<) are not supported")]


def test_complex_key_is_refused() -> None:
    """A list used as a key is refused."""
    assert problems("? [a, b]\n: c\n") == [
        (1, 3, "a key must be a plain name, not a list or mapping")]


def test_time_of_day_is_refused() -> None:
    """A timestamp with a time is refused; scenarios use dates and durations."""
    assert problems("start: 2030-03-01 10:00:00\n") == [
        (1, 8, "'2030-03-01 10:00:00': times of day are not supported")]


def test_impossible_date_is_refused() -> None:
    """A date that does not exist is reported with the reason."""
    assert problems("start: 2030-02-30\n") == [
        (1, 8, "cannot read the value '2030-02-30': day is out of range for month")]


def test_integer_beyond_float_range_is_refused() -> None:
    """An integer too large to become a float is refused here rather than crashing later."""
    (found,) = problems("p: 1" + "0" * 400 + "\n")

    assert found[:2] == (1, 4)
    assert re.fullmatch(r"the number '10{36}\.\.\.' is too large", found[2])


def test_control_character_is_placed() -> None:
    """A control character YAML does not allow is reported at its line and column."""
    assert problems("a: 1\nb: x\x07y\n") == [
        (2, 5, "the control character #x0007 is not allowed in YAML")]


# --- syntax errors ------------------------------------------------------------------------------


def test_syntax_error_is_placed_and_names_where_the_construct_began() -> None:
    """A YAML syntax error gives the place it was noticed and the line its construct began."""
    assert problems("a: 1\nb: [x, y\nc: 2\n") == [
        (3, 2, ("invalid YAML: expected ',' or ']', but got ':' "
                "(while parsing a flow sequence at line 2)"))]


def test_tab_indentation_has_its_own_hint() -> None:
    """A tab used for indentation gets a hint about tabs rather than a generic one."""
    with pytest.raises(ScenarioError) as info:
        read_yaml_text("a:\n\tb: 1\n")

    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.line, diagnostic.column) == (2, 1)
    assert "indent with spaces" in diagnostic.hint


def test_second_document_is_refused() -> None:
    """A file holds one scenario; a second YAML document is an error at its start."""
    assert problems("a: 1\n---\nb: 2\n") == [
        (2, 1, ("invalid YAML: expected a single document in the stream, "
                "but found another document"))]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_document_is_reported(text: str) -> None:
    """A file with no content says so at line 1."""
    assert problems(text) == [(1, 1, "the file is empty")]


# --- limits -------------------------------------------------------------------------------------


def test_node_limit_counts_expanded_aliases() -> None:
    """Aliases count once per use, so a small "billion laughs" file hits the node limit."""
    text = "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"

    ((_, _, message),) = problems(text, Limits(max_nodes=50))

    assert message == "the document has more than 50 values (after expanding aliases)"


def test_default_limits_stop_an_alias_bomb() -> None:
    """Nine levels of nine aliases each are refused under the default limits."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]

    ((_, _, message),) = problems("\n".join(lines) + "\n")

    assert "more than 100,000 values" in message


def test_alias_limit_is_placed_at_the_first_alias_beyond_it() -> None:
    """Three aliases are allowed under a limit of three; the fourth is refused where it is."""
    assert read_yaml_text("a: &a x\nb: [*a, *a, *a]\n", "s.yaml", Limits(max_aliases=3))[0] == {
        "a": "x", "b": ["x", "x", "x"]}
    # Columns of the aliases on line 2, "b: [*a, *a, *a, *a]": 5, 9, 13 and 17.
    assert problems("a: &a x\nb: [*a, *a, *a, *a]\n", Limits(max_aliases=3)) == [
        (2, 17, "more than 3 YAML aliases")]


def test_expanded_text_limit_counts_each_use_of_an_aliased_string() -> None:
    """One string aliased three times counts three times, keys included, without expanding it.

    Expanded, the document holds 1 (``s``) + 10 + 1 (``l``) + 3 * 10 = 42 characters,
    and the list alone 30.
    """
    text = "s: &s xxxxxxxxxx\nl: [*s, *s, *s]\n"
    assert read_yaml_text(text, "s.yaml", Limits(max_expanded_chars=42))[0]["l"] == ["x" * 10] * 3
    assert problems(text, Limits(max_expanded_chars=41)) == [
        (1, 1, "the document holds more than 41 characters of text once its aliases are expanded")]
    assert problems(text, Limits(max_expanded_chars=29)) == [
        (2, 4, "the document holds more than 29 characters of text once its aliases are expanded")]


def test_depth_limit() -> None:
    """Values nested deeper than the limit are refused where the limit is crossed."""
    assert problems("a: [[[[1]]]]\n", Limits(max_depth=3)) == [
        (1, 7, "nested more than 3 levels deep")]


def test_extreme_nesting_is_an_error_not_a_crash() -> None:
    """Nesting too deep for the YAML parser itself is reported, not a RecursionError."""
    with pytest.raises(ScenarioError, match=r"nested (too deeply to read|more than 64 levels)"):
        read_yaml_text("a: " + "[" * 600 + "]" * 600 + "\n")


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_nesting_past_libyamls_own_limit_is_placed_where_ours_is_crossed(levels: int) -> None:
    """libyaml (PyYAML 6.0.4 and later) stops at 1,000 levels before yielding the tokens where
    the limit of 64 is crossed; the refusal still names that place."""
    assert problems("x: " + "[" * levels + "]" * levels + "\n") == [
        (1, 68, "nested more than 64 levels deep")]


def test_nesting_is_found_when_the_fast_scanner_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever stops libyaml's scanner early, the Python scanner still finds the limit."""
    import yaml

    class Stopping(yaml.SafeLoader):
        def get_token(self) -> yaml.Token:
            raise yaml.scanner.ScannerError(problem="stopped")

    monkeypatch.setattr(yaml, "CSafeLoader", Stopping, raising=False)
    # deeper than the Python parser can recurse: only the scan can place the problem
    assert problems("a: " + "[" * 5_000 + "]" * 5_000 + "\n", Limits(max_depth=3)) == [
        (1, 7, "nested more than 3 levels deep")]


def test_string_size_limit() -> None:
    """A single value longer than the limit is refused with its length."""
    assert problems("name: " + "x" * 11 + "\n", Limits(max_string_chars=10)) == [
        (1, 7, "a value of 11 characters; the limit is 10")]


def test_text_size_limit() -> None:
    """Text longer than the file limit is refused before parsing."""
    assert problems("a: 12345678\n", Limits(max_file_bytes=10)) == [
        (None, None, "text is 12 characters; the limit is 10")]


# --- files --------------------------------------------------------------------------------------


def test_reads_a_file_and_names_it(tmp_path: Path) -> None:
    """A file is read as UTF-8 and its path is the source map's file name."""
    path = tmp_path / "s.yaml"
    path.write_text("name: café\n", encoding="utf-8")

    data, source_map = read_yaml_file(path)

    assert data == {"name": "café"}
    assert source_map.file == str(path)


def test_non_utf8_file_is_placed_at_the_bad_byte(tmp_path: Path) -> None:
    """A byte that is not UTF-8 is reported with its line, column and value."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nname: caf\xe9\n")

    where = re.escape(f"{path}:2:10: the file is not valid UTF-8")
    with pytest.raises(ScenarioError, match=where) as info:
        read_yaml_file(path)

    (diagnostic,) = info.value.diagnostics
    assert "byte 0xe9" in diagnostic.message
    assert diagnostic.hint == "save the file as UTF-8"


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is a ScenarioError naming it."""
    path = tmp_path / "absent.yaml"

    with pytest.raises(ScenarioError, match=re.escape(f"{path}: no such file")):
        read_yaml_file(path)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    """A directory is refused with a message saying so."""
    with pytest.raises(ScenarioError, match="is a directory, not a scenario file"):
        read_yaml_file(tmp_path)


def test_messages_name_the_kind_of_file_read(tmp_path: Path) -> None:
    """A reader of another kind of YAML file gets messages and hints about that kind."""
    kind = FileKind("observations file", "an observations file starts with `observed: 1`")
    with pytest.raises(ScenarioError, match="is a directory, not an observations file"):
        read_yaml_file(tmp_path, kind=kind)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_yaml_file(empty, kind=kind)
    assert info.value.diagnostics[0].message == "the file is empty"
    assert info.value.diagnostics[0].hint == kind.start
    with pytest.raises(ScenarioError) as info:
        read_yaml_file(empty, Limits(max_file_bytes=5), kind=kind)
    assert info.value.diagnostics[0].hint == "observations files are small; is this the right file?"


def test_file_size_limit(tmp_path: Path) -> None:
    """A file larger than the limit is refused before it is read, with a hint."""
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 100 + "\n", encoding="utf-8")

    with pytest.raises(ScenarioError, match="file is 104 bytes; the limit is 50") as info:
        read_yaml_file(path, Limits(max_file_bytes=50))

    assert "right file" in info.value.diagnostics[0].hint


def test_syntax_error_in_file_names_the_file(tmp_path: Path) -> None:
    """Errors in a file read from disk carry its path."""
    path = tmp_path / "bad.yaml"
    path.write_text("a: [1\n", encoding="utf-8")

    with pytest.raises(ScenarioError, match=re.escape(f"{path}:2:1: invalid YAML")):
        read_yaml_file(path)
