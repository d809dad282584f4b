"""The event graph as a Mermaid or Graphviz DOT diagram."""

from __future__ import annotations

from ..compile.compiled import CompiledEvent, CompiledScenario

__all__ = ["to_dot", "to_mermaid"]


def _edges(event: CompiledEvent, scenario: CompiledScenario) -> list[tuple[int, str, str]]:
    """(target, label, style) for every arrow leaving ``event``."""
    edges = [(target, "", "then") for target in event.then]
    for branch in event.branches:
        if branch.target is not None:
            label = branch.probability.text if branch.probability else "otherwise"
            edges.append((branch.target, label, "choose"))
    if event.repeat is not None:
        edges.append((event.index, "repeat", "repeat"))
    edges += [(target, "cancels", "cancels") for target in event.cancels]
    return edges


def _label(event: CompiledEvent) -> str:
    text = event.label
    if event.actor:
        text = f"{event.actor}: {text}"
    if event.end:
        text += f" [end: {event.end}]"
    return text


def _mermaid_text(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def to_mermaid(scenario: CompiledScenario) -> str:
    """Return a Mermaid flowchart of the scenario's events."""
    lines = ["flowchart TD"]
    for event in scenario.events:
        label = _mermaid_text(_label(event))
        shape = f'(["{label}"])' if event.end else (f'[/"{label}"/]' if event.at is not None
                                                     else f'["{label}"]')
        lines.append(f"    {event.name}{shape}")
    arrows = {"then": "-->", "choose": "-->", "repeat": "-.->", "cancels": "-.-x"}
    for event in scenario.events:
        for target, label, style in _edges(event, scenario):
            arrow = arrows[style]
            text = f'|"{_mermaid_text(label)}"|' if label else ""
            lines.append(f"    {event.name} {arrow}{text} {scenario.events[target].name}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(scenario: CompiledScenario) -> str:
    """Return a Graphviz DOT digraph of the scenario's events."""
    lines = [f'digraph "{_dot_text(scenario.name)}" {{', "    rankdir=TB;",
             '    node [shape=box, style=rounded, fontname="Helvetica"];']
    for event in scenario.events:
        shape = "doubleoctagon" if event.end else ("invhouse" if event.at is not None else "box")
        lines.append(f'    {event.name} [label="{_dot_text(_label(event))}", shape={shape}];')
    styles = {"then": "solid", "choose": "solid", "repeat": "dotted", "cancels": "dashed"}
    for event in scenario.events:
        for target, label, style in _edges(event, scenario):
            attributes = [f"style={styles[style]}"]
            if label:
                attributes.append(f'label="{_dot_text(label)}"')
            if style == "cancels":
                attributes.append("arrowhead=tee")
            lines.append(f"    {event.name} -> {scenario.events[target].name} "
                         f"[{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
