"""The shape of the package: no import cycles, layers that import downwards, small modules.

The import graph is read from the source with :mod:`ast` (imports inside
functions included, since a lazy import is still a dependency), so these
tests see what ``docs/architecture.md`` promises without importing anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import escalate

PACKAGE = Path(escalate.__file__).parent
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = ["escalate", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(name: str, path: Path) -> Iterator[str]:
    """The modules of the package that ``name`` (at ``path``) imports, anywhere in its body."""
    modules = _modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            # `from .x import y` imports x, and y too when y is a module
            targets = [stem, *(f"{stem}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            # A module's packages are imported before it whatever it says, so an edge to
            # one is no dependency (`from .. import distributions` names the module).
            if target in modules and not (name == target or name.startswith(f"{target}.")):
                yield target


@cache
def _graph() -> dict[str, frozenset[str]]:
    return {name: frozenset(_imported(name, path)) for name, path in _modules().items()}


def _layer(module: str) -> str:
    """The part of the package a module belongs to: its subpackage, or itself at the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_level(graph: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """The graph between layers; the package's own ``__init__`` (the public API) is left out."""
    layers: dict[str, set[str]] = {}
    for module, targets in graph.items():
        if module == "escalate":
            continue
        layer = _layer(module)
        layers.setdefault(layer, set()).update(
            _layer(t) for t in targets if t != "escalate" and _layer(t) != layer)
    return {layer: frozenset(targets) for layer, targets in layers.items()}


def test_the_graph_is_read() -> None:
    """The reader finds the imports the runner is known to have (so an empty graph cannot pass)."""
    assert "escalate.engine.selection" in _graph()["escalate.montecarlo.runner"]
    assert "escalate.compile.compiled" in _graph()["escalate.engine.reference"]


def test_no_import_cycle_between_modules() -> None:
    """No module imports, directly or through others, one that imports it."""
    assert _cycles(_graph()) == []


def test_no_import_cycle_between_layers() -> None:
    """The layers (spec, compile, engine, montecarlo, results, ...) import downwards only."""
    assert _cycles(_package_level(_graph())) == []


def test_the_cycle_finder_finds_cycles() -> None:
    """A planted cycle is reported, so the two tests above can fail."""
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}),
             "d": frozenset({"a"})}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("layer", ["engine", "compile", "spec"])
def test_lower_layers_import_no_higher_one(layer: str) -> None:
    """The spec, the compile stage and the engines know nothing of running, files or reports."""
    higher = {"montecarlo", "results", "analysis", "report", "sweeps", "cli", "workflow",
              "scenario", "observations"}
    if layer == "spec":
        higher |= {"compile", "engine"}
    if layer == "compile":
        higher |= {"engine"}
    found = {t for t in _package_level(_graph()).get(layer, ()) if t in higher}
    assert found == set()


def test_engines_never_read_the_spec_model() -> None:
    """Engines see the compiled scenario and the checked expression trees, never the spec."""
    readers = {module: sorted(t for t in targets
                              if t.startswith("escalate.spec") and
                              not t.startswith("escalate.spec.expressions"))
               for module, targets in _graph().items() if _layer(module) == "engine"}
    assert {module: found for module, found in readers.items() if found} == {}


def test_no_module_is_over_the_limit() -> None:
    """Every module of the package fits in a few hundred lines (at most 500)."""
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines())
               for name, path in _modules().items()}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}
