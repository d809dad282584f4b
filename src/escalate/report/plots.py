"""Charts for reports, drawn with matplotlib and returned as SVG text.

No pyplot and no global state: each chart is its own :class:`Figure` drawn
under a local style (readable sizes, the Okabe-Ito colour-blind-safe palette,
a sequential ``cividis`` map for heat maps).  Text is drawn as paths, so the
SVG looks the same without the fonts installed, and the file has no date in
it, so the same data give the same bytes.  User text has ``$`` escaped so
that matplotlib never reads it as mathematics.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..optional import require

require("matplotlib")

import matplotlib as mpl
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .estimative import BANDS

__all__ = [
    "OKABE_ITO",
    "Estimate",
    "Series",
    "cumulative_chart",
    "difference_chart",
    "heatmap_chart",
    "level_chart",
    "outcome_chart",
    "sweep_chart",
    "tornado_chart",
]

#: Okabe & Ito (2008), with black moved last and yellow after the darker colours.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
# Yellow is too pale for thin lines on white: lines cycle through the other seven, then dash.
_LINE_COLOURS = OKABE_ITO[:7]
_LINESTYLES = ("-", "--", ":", "-.")
_WIDTH_INCHES = 8.0

_STYLE: dict[str, Any] = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
    "svg.fonttype": "path",
    "svg.hashsalt": "escalate-report",
    "figure.dpi": 96,
}


@dataclass(frozen=True)
class Estimate:
    """A labelled probability with its 95% interval."""

    label: str
    probability: float
    low: float
    high: float


@dataclass(frozen=True)
class Series:
    """A curve with an interval band: y and its bounds against x (probabilities in [0, 1])."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None


def plain(text: str) -> str:
    """Text that matplotlib draws literally (no mathtext)."""
    return text.replace("$", r"\$")


def _wrap(text: str, width: int = 36) -> str:
    return "\n".join(textwrap.wrap(plain(text), width)[:3]) or " "


@contextmanager
def _figure(height_inches: float, width_inches: float = _WIDTH_INCHES) -> Iterator[Figure]:
    with mpl.rc_context(_STYLE):  # type: ignore[arg-type]
        yield Figure(figsize=(width_inches, height_inches), layout="constrained")


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with mpl.rc_context(_STYLE):  # type: ignore[arg-type]
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _percent_axis(axis: object) -> None:
    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))  # type: ignore[attr-defined]


def outcome_chart(estimates: Sequence[Estimate]) -> str:
    """Dots and 95% whiskers per outcome, over the ICD 203 bands of estimative probability."""
    with _figure(1.3 + 0.42 * max(1, len(estimates))) as figure:
        ax = figure.add_subplot()
        lower = 0.0
        for i, (upper, _phrase) in enumerate(BANDS):
            upper = min(upper, 1.0)
            ax.axvspan(lower, upper, color="#f2f2f2" if i % 2 else "#ffffff", zorder=0, lw=0)
            lower = upper
        ys = list(range(len(estimates)))[::-1]
        for y, estimate in zip(ys, estimates, strict=True):
            ax.plot([estimate.low, estimate.high], [y, y], color=OKABE_ITO[0], lw=2.2,
                    solid_capstyle="butt")
            ax.plot([estimate.probability], [y], "o", color=OKABE_ITO[1], ms=6.5, zorder=3)
            ax.annotate(f"{100 * estimate.probability:.1f}%", (estimate.high, y),
                        xytext=(6, 0), textcoords="offset points", va="center", fontsize=9)
        ax.set_yticks(ys, [_wrap(e.label, 40) for e in estimates])
        ax.set_xlim(0, 1.08)
        ax.set_ylim(-0.7, len(estimates) - 0.3)
        _percent_axis(ax.xaxis)
        ax.set_xticks([0, 0.2, 0.45, 0.55, 0.8, 1.0])
        ax.set_xticks([0.05, 0.95], minor=True)
        ax.set_xlabel("probability of occurring before the horizon (%)\n"
                      "dot = estimate, bar = 95% interval, shading = ICD 203 bands")
        ax.grid(axis="y", visible=False)
        return _svg(figure)


def level_chart(levels: Sequence[Estimate]) -> str:
    """Bars of the share of replications whose maximum level was each rung, with 95% whiskers."""
    with _figure(3.8) as figure:
        ax = figure.add_subplot()
        xs = range(len(levels))
        heights = [e.probability for e in levels]
        errors = [[max(0.0, e.probability - e.low) for e in levels],
                  [max(0.0, e.high - e.probability) for e in levels]]
        ax.bar(xs, heights, color=OKABE_ITO[0], width=0.7, yerr=errors, capsize=3,
               error_kw={"ecolor": "#333333", "lw": 1})
        for x, estimate in zip(xs, levels, strict=True):
            ax.annotate(f"{100 * estimate.probability:.1f}%", (x, estimate.high),
                        xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8.5)
        ax.set_xticks(list(xs), [f"{i}\n{_wrap(e.label, 14)}" for i, e in enumerate(levels)],
                      fontsize=8.5 if len(levels) > 6 else 10)
        ax.set_ylim(0, min(1.0, max(e.high for e in levels) * 1.15 + 0.02))
        _percent_axis(ax.yaxis)
        ax.set_xlabel("maximum escalation level reached (rung of the ladder)")
        ax.set_ylabel("share of replications (%)")
        ax.grid(axis="x", visible=False)
        return _svg(figure)


def _style(index: int) -> dict[str, object]:
    return {"color": _LINE_COLOURS[index % len(_LINE_COLOURS)],
            "linestyle": _LINESTYLES[(index // len(_LINE_COLOURS)) % len(_LINESTYLES)]}


def cumulative_chart(curves: Sequence[Series], start: dt.date | None, horizon_days: float) -> str:
    """Probability that each outcome has occurred by each day; dates on the top axis."""
    legend_rows = math.ceil(len(curves) / 2)
    with _figure(4.2 + 0.22 * legend_rows) as figure:
        ax = figure.add_subplot()
        for i, curve in enumerate(curves):
            ax.step(curve.x, curve.y, where="post", lw=1.8, label=_wrap(curve.label, 44),
                    **_style(i))  # type: ignore[arg-type]
        ax.set_xlim(0, horizon_days)
        ax.set_ylim(0, 1.0)
        _percent_axis(ax.yaxis)
        ax.set_xlabel("days since the start of the scenario")
        ax.set_ylabel("probability of having occurred (%)")
        if start is not None:
            top = ax.secondary_xaxis("top")
            top.xaxis.set_major_locator(MaxNLocator(6, integer=True))
            top.xaxis.set_major_formatter(FuncFormatter(
                lambda days, _: (start + dt.timedelta(days=int(days))).isoformat()))
            top.set_xlabel("date")
        if curves:
            figure.legend(loc="outside lower center", ncols=2, frameon=False)
        return _svg(figure)


def difference_chart(labels: Sequence[str], differences: Sequence[tuple[float, float, float]],
                     title: str) -> str:
    """A forest plot: each outcome's difference in probability with its 95% interval."""
    with _figure(1.3 + 0.42 * max(1, len(labels))) as figure:
        ax = figure.add_subplot()
        ys = list(range(len(labels)))[::-1]
        for y, (estimate, low, high) in zip(ys, differences, strict=True):
            distinct = low > 0 or high < 0
            colour = OKABE_ITO[1] if distinct else OKABE_ITO[0]
            ax.plot([low, high], [y, y], color=colour, lw=2.2, solid_capstyle="butt")
            ax.plot([estimate], [y], "o", color=colour, ms=6)
        ax.axvline(0, color="#333333", lw=1)
        ax.set_yticks(ys, [_wrap(label, 40) for label in labels])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:+.1f}"))
        ax.set_xlabel(f"{plain(title)} (percentage points; orange = distinguishable from zero)")
        ax.grid(axis="y", visible=False)
        return _svg(figure)


def sweep_chart(panels: Sequence[tuple[str, Sequence[Series]]], outcome_label: str,
                lines: bool) -> str:
    """One panel per varied parameter: the outcome's probability with its 95% band.

    With ``lines`` each series is joined and banded (grids); otherwise points carry
    whiskers (designs where the other parameters vary from point to point).
    """
    columns = min(len(panels), 2)
    rows = math.ceil(len(panels) / columns)
    with _figure(0.6 + 3.2 * rows) as figure:
        axes = figure.subplots(rows, columns, squeeze=False)
        for k, (parameter, series) in enumerate(panels):
            ax = axes[k // columns][k % columns]
            for i, s in enumerate(series):
                style = _style(i)
                if lines:
                    ax.plot(s.x, s.y, marker="o", ms=3.5, lw=1.6, label=plain(s.label), **style)
                    if s.low is not None and s.high is not None:
                        ax.fill_between(s.x, s.low, s.high, color=style["color"], alpha=0.18,
                                        lw=0)
                else:
                    low = s.low if s.low is not None else s.y
                    high = s.high if s.high is not None else s.y
                    errors = [[max(0.0, y - lo) for y, lo in zip(s.y, low, strict=True)],
                              [max(0.0, hi - y) for y, hi in zip(s.y, high, strict=True)]]
                    ax.errorbar(s.x, s.y, yerr=errors, fmt="o", ms=3.5, lw=1, capsize=2,
                                color=style["color"], label=plain(s.label))
            ax.set_xlabel(plain(parameter))
            ax.set_ylabel("probability (%)")
            ax.set_ylim(0, 1)
            _percent_axis(ax.yaxis)
            if len(series) > 1:
                ax.legend(frameon=False, fontsize=8.5)
        for k in range(len(panels), rows * columns):
            axes[k // columns][k % columns].set_visible(False)
        figure.suptitle(_wrap(outcome_label, 80))
        return _svg(figure)


def heatmap_chart(x_name: str, x_values: Sequence[float], y_name: str, y_values: Sequence[float],
                  grid: Sequence[Sequence[float]], outcome_label: str) -> str:
    """A two-parameter grid coloured by the outcome's probability (cividis), cells labelled."""
    annotate = len(x_values) <= 12 and len(y_values) <= 12
    with _figure(0.9 + 0.45 * max(4, len(y_values)), 7.0) as figure:
        ax = figure.add_subplot()
        image = ax.imshow(grid, origin="lower", cmap="cividis", vmin=0.0, vmax=1.0,
                          aspect="auto", interpolation="nearest")
        ax.set_xticks(range(len(x_values)), [f"{v:.4g}" for v in x_values])
        ax.set_yticks(range(len(y_values)), [f"{v:.4g}" for v in y_values])
        ax.set_xlabel(plain(x_name))
        ax.set_ylabel(plain(y_name))
        ax.grid(visible=False)
        if annotate:
            for j, row in enumerate(grid):
                for i, value in enumerate(row):
                    if not math.isnan(value):
                        ax.text(i, j, f"{100 * value:.0f}%", ha="center", va="center",
                                fontsize=8.5, color="black" if value > 0.55 else "white")
        bar = figure.colorbar(image, ax=ax, format=PercentFormatter(1.0, decimals=0))
        bar.set_label("probability (%)")
        ax.set_title(_wrap(outcome_label, 70))
        return _svg(figure)


def tornado_chart(names: Sequence[str], bars: Sequence[tuple[str, Sequence[float], Sequence[float]]],
                  xlabel: str) -> str:
    """Horizontal bars per parameter, largest at the top, each kind of index with its 95% whisker.

    ``bars`` holds (kind label, values, confidence half-widths) in the order of ``names``.
    """
    count = len(names)
    kinds = len(bars)
    height = 0.8 / max(1, kinds)
    with _figure(1.2 + 0.5 * max(1, count)) as figure:
        ax = figure.add_subplot()
        ys = list(range(count))[::-1]
        for k, (kind, values, halves) in enumerate(bars):
            offsets = [y + (kinds - 1) * height / 2 - k * height for y in ys]
            ax.barh(offsets, values, height=height * 0.92, xerr=halves, capsize=2,
                    color=OKABE_ITO[k % len(OKABE_ITO)], label=plain(kind),
                    error_kw={"ecolor": "#333333", "lw": 1})
        ax.set_yticks(ys, [_wrap(name, 36) for name in names])
        ax.axvline(0, color="#333333", lw=0.8)
        ax.set_xlabel(plain(xlabel))
        ax.grid(axis="y", visible=False)
        if kinds > 1:
            ax.legend(frameon=False, loc="lower right")
        return _svg(figure)
