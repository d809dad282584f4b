"""The contents of a sweep's report: each outcome against each varied parameter, heat maps for grids."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .._version import __version__
from ..results.formats import TABLE
from ..results.sweepdir import SweepData, SweepPoint
from . import plots
from .document import Block, Code, Document, Figure, Inline, Paragraph, Section, Table
from .formatting import percent, spec_text
from .runreport import provenance_rows, scenario_sections

__all__ = ["MAX_POINT_ROWS", "MAX_SERIES", "build_sweep_document"]

#: points listed in the report's table (the CSV has them all)
MAX_POINT_ROWS = 200
#: at most this many combinations of the other parameters are drawn as separate lines
MAX_SERIES = 6


def _label(data: SweepData, outcome: str) -> str:
    if data.spec is not None and outcome in data.spec.outcomes:
        return data.spec.outcomes[outcome].label or outcome
    return outcome


def _series(points: Sequence[SweepPoint], parameter: str, outcome: str, label: str) -> plots.Series:
    ordered = sorted(points, key=lambda p: p.values[parameter])
    return plots.Series(
        label, [p.values[parameter] for p in ordered],
        [p.outcomes[outcome]["p"] for p in ordered],
        [p.outcomes[outcome]["lo"] for p in ordered],
        [p.outcomes[outcome]["hi"] for p in ordered])


def _panels(data: SweepData, outcome: str) -> tuple[list[tuple[str, list[plots.Series]]], bool]:
    """Per parameter, the series to draw; and whether to draw them as banded lines."""
    points = [p for p in data.ok_points() if not math.isnan(p.outcomes[outcome]["p"])]
    grid = data.is_grid()
    panels = []
    lines = True
    for parameter in data.parameters:
        others = [name for name in data.parameters if name != parameter]
        if not others:
            panels.append((parameter, [_series(points, parameter, outcome, "")]))
            continue
        groups: dict[tuple[float, ...], list[SweepPoint]] = {}
        for point in points:
            groups.setdefault(tuple(point.values[name] for name in others), []).append(point)
        if grid and len(groups) <= MAX_SERIES:
            series = [_series(members, parameter, outcome,
                              ", ".join(f"{name}={value:.4g}" for name, value in zip(
                                  others, key, strict=True)))
                      for key, members in sorted(groups.items())]
        else:
            lines = False
            series = [_series(points, parameter, outcome, "")]
        panels.append((parameter, series))
    return panels, lines


def _heatmap(data: SweepData, outcome: str) -> str:
    x_name, y_name = data.parameters
    points = data.ok_points()
    xs = sorted({p.values[x_name] for p in points})
    ys = sorted({p.values[y_name] for p in points})
    grid = [[math.nan] * len(xs) for _ in ys]
    for point in points:
        grid[ys.index(point.values[y_name])][xs.index(point.values[x_name])] = \
            point.outcomes[outcome]["p"]
    return plots.heatmap_chart(x_name, xs, y_name, ys, grid, _label(data, outcome))


def _design_section(data: SweepData) -> Section:
    rows: list[list[Inline | Sequence[Inline]]] = []
    for name in data.parameters:
        values = sorted({p.values[name] for p in data.points if not math.isnan(p.values[name])})
        taken = (f"{len(values)} values from {values[0]:.4g} to {values[-1]:.4g}" if values
                 else "–")
        rows.append([Code(name), spec_text(data.vary.get(name, "")), taken])
    failed = [p for p in data.points if not p.ok]
    blocks: list[Block] = [
        Paragraph(f"Design: {data.design_kind}, {len(data.points):,} points "
                  f"({len(failed):,} failed), "
                  f"{data.manifest.get('replications', '–')} replications per point, "
                  f"seed {data.manifest.get('seed', '–')}. Every other parameter keeps the value "
                  "in the assumption ledger."),
        Table(["parameter", "varied as", "values taken"], rows, kind="design"),
    ]
    if failed:
        blocks.append(Paragraph("Points that failed (left out of the charts):"))
        blocks.append(Table(["point", "error"], [[str(p.index), p.error or "–"] for p in failed],
                            kind="failures"))
    return Section("Design", blocks, "design")


def _points_table(data: SweepData) -> Table:
    columns = ["point", *data.parameters, "status",
               *(f"{name} (p)" for name in data.outcome_names), "mean max level"]
    rows = [[str(point.index), *(f"{point.values[n]:.4g}" for n in data.parameters),
             point.status,
             *(percent(point.outcomes[n]["p"]) if point.ok else "–" for n in data.outcome_names),
             "–" if math.isnan(point.mean_max_level) else f"{point.mean_max_level:.2f}"]
            for point in data.points[:MAX_POINT_ROWS]]
    numeric = frozenset(i for i in range(len(columns)) if columns[i] != "status")
    caption = "" if len(data.points) <= MAX_POINT_ROWS else (
        f"The first {MAX_POINT_ROWS} of {len(data.points):,} points; {TABLE} has them all.")
    return Table(columns, rows, caption=caption, numeric=numeric, kind="points")


def build_sweep_document(data: SweepData) -> Document:
    """Assemble the report of a sweep directory (nothing is re-run)."""
    name = data.spec.name if data.spec is not None else str(
        (data.manifest.get("scenario") or {}).get("name", data.label))
    sections = scenario_sections(data.spec, {}, None)
    sections.append(_design_section(data))
    charts: list[Block] = []
    heatmaps: list[Block] = []
    two_grid = len(data.parameters) == 2 and data.is_grid()
    as_points = False
    for outcome in data.outcome_names:
        label = _label(data, outcome)
        panels, lines = _panels(data, outcome)
        if not panels or not data.ok_points():
            continue
        as_points = as_points or not lines
        how = "with its 95% interval band" if lines else "with 95% interval whiskers"
        charts.append(Figure(f"sweep-{outcome}", plots.sweep_chart(panels, label, lines),
                             f"{label}: probability against each varied parameter, {how}.",
                             f"Chart of {label} against {', '.join(data.parameters)}"))
        if two_grid:
            heatmaps.append(Figure(f"heatmap-{outcome}", _heatmap(data, outcome),
                                   f"{label}: probability over the grid of "
                                   f"{data.parameters[0]} and {data.parameters[1]}"
                                   + ("; blank cells are points that failed." if len(
                                       data.ok_points()) < len(data.points) else "."),
                                   f"Heat map of {label} over {data.parameters[0]} and "
                                   f"{data.parameters[1]}"))
    if not data.ok_points():
        charts.append(Paragraph("No point of the sweep finished, so there is nothing to plot.",
                                note=True))
    else:
        charts.append(Paragraph("Bands and whiskers are 95% Wilson intervals of each point's "
                                "replications: Monte Carlo noise, not the uncertainty of the "
                                "other assumptions.", note=True))
    if as_points:
        charts.append(Paragraph(
            "The other parameters vary from point to point in this design, so each point is "
            "drawn with its own 95% interval rather than joined into a line.", note=True))
    sections.append(Section("Outcomes against parameters", charts, "sweep"))
    if heatmaps:
        sections.append(Section("Heat maps", heatmaps, "heatmaps"))
    sections.append(Section("Points", [_points_table(data)], "points"))
    rows: list[list[Inline | Sequence[Inline]]] = [
        ["seed", str(data.manifest.get("seed", "–"))],
        ["replications per point", str(data.manifest.get("replications", "–"))],
        ["design", data.design_kind],
        *provenance_rows(data.manifest),
    ]
    sections.append(Section("How this sweep was made", [Table(["", ""], rows, kind="provenance")],
                            "provenance"))
    subtitle = (f"Sweep report: {data.design_kind} over {', '.join(data.parameters)}; "
                f"{len(data.points):,} points")
    return Document(name, subtitle, sections,
                    footer=f"Made by escalate {__version__} from the sweep directory "
                           f"{data.label}; reports read recorded results and re-run nothing.")
