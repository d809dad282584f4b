"""The event graph drawn as a layered SVG diagram, without a layout engine.

Events are placed in layers by their distance from the root events along
``then`` and ``choose`` arrows (arrows back to an earlier layer are drawn up
the side), ordered within a layer by the barycentre of their predecessors,
and joined by curves: solid for ``then``, solid with the probability for
``choose``, dashed for ``cancels``.  A repeating event carries a ↻ mark.
Every label is escaped for XML.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape

from ..compile.compiled import CompiledEvent, CompiledScenario

__all__ = ["event_graph_svg", "layers"]

NODE_WIDTH = 164
NODE_HEIGHT = 46
GAP_X = 26
GAP_Y = 62
MARGIN = 20
LEGEND_HEIGHT = 44
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
COLOURS = {"root": "#cfe3f3", "end": "#f6d3bf", "event": "#ffffff", "edge": "#4d4d4d",
           "choose": "#0072B2", "cancels": "#D55E00", "stroke": "#333333"}


@dataclass(frozen=True)
class _Edge:
    source: int
    target: int
    kind: str  # then | choose | cancels
    label: str


def _edges(scenario: CompiledScenario) -> list[_Edge]:
    edges = []
    for event in scenario.events:
        edges += [_Edge(event.index, t, "then", "") for t in event.then]
        for branch in event.branches:
            if branch.target is not None:
                text = branch.probability.text if branch.probability else "otherwise"
                edges.append(_Edge(event.index, branch.target, "choose", text))
        edges += [_Edge(event.index, t, "cancels", "") for t in event.cancels]
    return edges


def layers(scenario: CompiledScenario) -> list[list[int]]:
    """Events grouped in layers by their distance from the root events along ``then`` and ``choose``.

    Breadth-first distance keeps each event near its first cause, so the
    diagram reads downwards in time; arrows back to an earlier layer (talks
    collapse and the fighting resumes) are drawn up the side.
    """
    count = len(scenario.events)
    successors: dict[int, list[int]] = defaultdict(list)
    for edge in _edges(scenario):
        if edge.kind != "cancels" and edge.source != edge.target:
            successors[edge.source].append(edge.target)
    depth: dict[int, int] = dict.fromkeys(scenario.roots, 0)
    frontier = list(scenario.roots)
    while frontier:
        following = []
        for node in frontier:
            for child in successors[node]:
                if child not in depth:
                    depth[child] = depth[node] + 1
                    following.append(child)
        frontier = following
    for node in range(count):  # not reachable from a root (the compiler rejects that; be safe)
        depth.setdefault(node, 0)
    grouped: dict[int, list[int]] = defaultdict(list)
    for node in range(count):
        grouped[depth[node]].append(node)
    forward = {node: [c for c in successors[node] if depth[c] > depth[node]] for node in range(count)}
    return _order([grouped[d] for d in sorted(grouped)], forward)


def _order(rows: list[list[int]], forward: dict[int, list[int]]) -> list[list[int]]:
    """Reorder each layer by the mean position of its neighbours (a few sweeps down and up)."""
    parents: dict[int, list[int]] = defaultdict(list)
    for source, targets in forward.items():
        for target in targets:
            parents[target].append(source)
    position = {node: i for row in rows for i, node in enumerate(row)}

    def sweep(sequence: list[list[int]], neighbours: dict[int, list[int]]) -> None:
        for row in sequence:
            def key(node: int) -> float:
                around = [position[n] for n in neighbours.get(node, [])]
                return sum(around) / len(around) if around else position[node]
            row.sort(key=key)
            position.update({node: i for i, node in enumerate(row)})

    for _ in range(3):
        sweep(rows[1:], parents)
        sweep(rows[-2::-1], forward)
    return rows


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _node(event: CompiledEvent, x: float, y: float, root: bool) -> str:
    kind = "end" if event.end else ("root" if root else "event")
    title = event.label if event.label != event.name else event.name
    detail = event.name + (f" · {event.actor}" if event.actor else "")
    if event.end:
        detail = f"end: {event.end}"
    centre = x + NODE_WIDTH / 2
    parts = [
        f'<g class="node"><title>{escape(event.name)}: {escape(event.label)}</title>',
        (f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="7" '
         f'fill="{COLOURS[kind]}" stroke="{COLOURS["stroke"]}" stroke-width="1"/>'),
        (f'<text x="{centre:.1f}" y="{y + 19:.1f}" font-size="11.5" text-anchor="middle" '
         f'fill="#111">{escape(_clip(title, 25))}</text>'),
        (f'<text x="{centre:.1f}" y="{y + 35:.1f}" font-size="9.5" text-anchor="middle" '
         f'fill="#555">{escape(_clip(detail, 30))}</text>'),
    ]
    if event.repeat is not None:
        parts.append(f'<text x="{x + NODE_WIDTH - 5:.1f}" y="{y + 13:.1f}" font-size="12" '
                     f'text-anchor="end" fill="{COLOURS["choose"]}">↻</text>')
    parts.append("</g>")
    return "".join(parts)


def event_graph_svg(scenario: CompiledScenario) -> str:
    """Return the scenario's event graph as a standalone SVG document."""
    rows = layers(scenario)
    widest = max(len(row) for row in rows)
    width = 2 * MARGIN + widest * NODE_WIDTH + (widest - 1) * GAP_X
    height = 2 * MARGIN + len(rows) * NODE_HEIGHT + (len(rows) - 1) * GAP_Y + LEGEND_HEIGHT
    place: dict[int, tuple[float, float]] = {}
    layer_of: dict[int, int] = {}
    for r, row in enumerate(rows):
        row_width = len(row) * NODE_WIDTH + (len(row) - 1) * GAP_X
        left = (width - row_width) / 2
        for i, node in enumerate(row):
            place[node] = (left + i * (NODE_WIDTH + GAP_X), MARGIN + r * (NODE_HEIGHT + GAP_Y))
            layer_of[node] = r
    edges_svg: list[str] = []
    labels_svg: list[str] = []
    for edge in _edges(scenario):
        if edge.source == edge.target:
            continue
        (sx, sy), (tx, ty) = place[edge.source], place[edge.target]
        colour = COLOURS["cancels" if edge.kind == "cancels" else
                         ("choose" if edge.kind == "choose" else "edge")]
        dash = ' stroke-dasharray="5 4"' if edge.kind == "cancels" else ""
        marker = "url(#cancel)" if edge.kind == "cancels" else (
            "url(#arrow-choose)" if edge.kind == "choose" else "url(#arrow)")
        if layer_of[edge.target] > layer_of[edge.source]:
            x1, y1 = sx + NODE_WIDTH / 2, sy + NODE_HEIGHT
            x2, y2 = tx + NODE_WIDTH / 2, ty
            bend = (y2 - y1) / 2
            path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        else:
            # Back or sideways: leave from the right side and come round.
            x1, y1 = sx + NODE_WIDTH, sy + NODE_HEIGHT / 2
            x2, y2 = tx + NODE_WIDTH, ty + NODE_HEIGHT / 2
            reach = max(x1, x2) + 40
            path = f"M{x1:.1f},{y1:.1f} C{reach:.1f},{y1:.1f} {reach:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
            mx, my = reach - 10, (y1 + y2) / 2
        edges_svg.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.2"'
                         f'{dash} marker-end="{marker}"/>')
        if edge.label:
            text = _clip(edge.label, 26)
            box = 5.6 * len(text) + 6
            labels_svg.append(
                f'<g class="edge-label"><title>{escape(edge.label)}</title>'
                f'<rect x="{mx - box / 2:.1f}" y="{my - 8:.1f}" width="{box:.1f}" height="14" '
                f'fill="#ffffff" fill-opacity="0.9"/><text x="{mx:.1f}" y="{my + 3:.1f}" '
                f'font-size="9.5" text-anchor="middle" fill="{COLOURS["choose"]}">'
                f"{escape(text)}</text></g>")
    roots = set(scenario.roots)
    nodes_svg = [_node(event, *place[event.index], event.index in roots)
                 for event in scenario.events]
    legend_y = height - LEGEND_HEIGHT + 14
    legend = (
        f'<g class="legend" font-size="10" fill="#333">'
        f'<rect x="{MARGIN}" y="{legend_y}" width="14" height="10" fill="{COLOURS["root"]}" stroke="#333"/>'
        f'<text x="{MARGIN + 20}" y="{legend_y + 9}">scheduled at a fixed time</text>'
        f'<rect x="{MARGIN + 170}" y="{legend_y}" width="14" height="10" fill="{COLOURS["end"]}" stroke="#333"/>'
        f'<text x="{MARGIN + 190}" y="{legend_y + 9}">ends the replication</text>'
        f'<text x="{MARGIN + 320}" y="{legend_y + 9}" fill="{COLOURS["choose"]}">→ p: chosen with probability p</text>'
        f'<text x="{MARGIN + 500}" y="{legend_y + 9}" fill="{COLOURS["cancels"]}">- - cancels</text>'
        f'<text x="{MARGIN + 580}" y="{legend_y + 9}" fill="{COLOURS["choose"]}">↻ repeats</text></g>')
    width = max(width, 2 * MARGIN + 660)
    defs = (
        '<defs>'
        f'<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{COLOURS["edge"]}"/></marker>'
        f'<marker id="arrow-choose" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{COLOURS["choose"]}"/></marker>'
        f'<marker id="cancel" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M9,0 L9,10" stroke="{COLOURS["cancels"]}" stroke-width="2"/></marker>'
        '</defs>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}">'
        f"<title>Event graph of {escape(scenario.name)}</title>{defs}"
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        + "".join(edges_svg) + "".join(nodes_svg) + "".join(labels_svg) + legend + "</svg>\n")
