"""Comparisons rendered for people (a document, terminal rows) and for programs (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .._version import __version__
from ..analysis.compare import FAMILY_ERROR, Comparison, pairing_gain
from ..errors import UsageError
from .document import Block, Code, Document, Figure, Paragraph, Section, Table
from .formatting import percent, percent_interval, points

__all__ = [
    "changes_sentence",
    "comparison_document",
    "comparison_json",
    "comparison_rows",
    "method_sentence",
    "render_comparisons",
]

COLUMNS = ("outcome", "baseline", "95% interval", "variant", "95% interval", "difference",
           "95% interval of the difference", "distinguishable from zero")


def method_sentence(comparison: Comparison) -> str:
    """How the difference was measured, in words, and what the runs being unpaired implies."""
    if comparison.method == "paired":
        return ("Paired: both runs used the same seed, engine and replications, so each "
                "replication of the variant faced the same random draws as the baseline "
                "(common random numbers); the interval of each difference is Tango's score "
                "interval for paired proportions, from the replications where the outcome "
                "occurred in one run only.")
    newcombe = "Newcombe's hybrid score interval for independent proportions"
    if comparison.relation == "independent":
        return (f"Unpaired ({comparison.reason}): the runs are independent samples; the "
                f"interval of each difference is {newcombe}.")
    if comparison.relation == "shared":
        return (f"Unpaired ({comparison.reason}): the runs share the random draws of some or "
                f"all replications but cannot be paired, so they are treated as independent "
                f"samples; the interval of each difference is {newcombe}, which is "
                "conservative (wider than needed) when the shared draws correlate the runs "
                "positively, as common random numbers usually do.")
    return (f"Unpaired ({comparison.reason}): the runs' random draws cannot be matched "
            f"replication by replication, so they are treated as independent samples; the "
            f"interval of each difference is {newcombe}.")


def changes_sentence(comparison: Comparison) -> str:
    """Which outcomes changed, at the family-wise error rate that ``--fail-if-changed`` uses."""
    rule = (f"at a family-wise error rate of {FAMILY_ERROR:.0%} over the {comparison.family} "
            "differences compared (Holm's procedure)")
    if comparison.changed:
        return f"Changed {rule}: {', '.join(o.outcome for o in comparison.changed)}."
    excluding = sum(o.distinguishable for o in comparison.outcomes)
    unless = (f", although {excluding} of the 95% intervals exclude zero" if excluding > 1
              else ", although one 95% interval excludes zero" if excluding else "")
    return f"No outcome changed {rule}{unless}."


def _pairing_sentence(comparison: Comparison) -> str | None:
    """How much narrower the paired intervals are than unpaired ones, in words."""
    gain = pairing_gain(comparison)
    if gain is None:
        return None
    least, most = gain
    if least >= 0:
        span = f"{most:.0f}%" if f"{least:.0f}" == f"{most:.0f}" else f"{least:.0f}% to {most:.0f}%"
        return (f"Pairing made the intervals of the differences {span} narrower than unpaired "
                "intervals would be.")
    return (f"Paired intervals of the differences range from {-least:.0f}% wider to "
            f"{most:.0f}% narrower than unpaired intervals would be.")


def comparison_rows(comparison: Comparison) -> list[list[str]]:
    return [[item.outcome, percent(item.baseline[0]), percent_interval(item.baseline[1:]),
             percent(item.variant[0]), percent_interval(item.variant[1:]),
             points(item.difference), f"{points(item.low)} to {points(item.high)}",
             "yes" if item.distinguishable else "no"]
            for item in comparison.outcomes]


def comparison_document(comparisons: Sequence[Comparison], plots: Any | None = None) -> Document:
    """A report of the comparisons; with the ``plots`` module, each gets a forest plot."""
    sections: list[Section] = []
    for comparison in comparisons:
        blocks: list[Block] = [Paragraph(method_sentence(comparison))]
        if plots is not None and comparison.outcomes:
            blocks.append(Figure(
                f"difference-{len(sections) + 1}",
                plots.difference_chart(
                    [o.label for o in comparison.outcomes],
                    [(o.difference, o.low, o.high) for o in comparison.outcomes],
                    f"{comparison.variant} minus {comparison.baseline}"),
                f"Difference in probability ({comparison.variant} minus {comparison.baseline}) "
                "with its 95% interval; orange where it excludes zero.",
                "Forest plot of the differences: " + "; ".join(
                    f"{o.label} {points(o.difference)}" for o in comparison.outcomes)))
        rows: list[list[Any]] = [[Code(row[0]), *row[1:]] for row in comparison_rows(comparison)]
        blocks.append(Table(list(COLUMNS), rows, kind="comparison",
                            numeric=frozenset(range(1, 7))))
        gain = _pairing_sentence(comparison)
        if gain is not None:
            blocks.append(Paragraph(gain, note=True))
        blocks.append(Paragraph(changes_sentence(comparison), note=True))
        for names, where in ((comparison.only_baseline, comparison.baseline),
                             (comparison.only_variant, comparison.variant)):
            if names:
                blocks.append(Paragraph(f"Outcomes only in {where} (not compared): "
                                        + ", ".join(names), note=True))
        sections.append(Section(f"{comparison.variant} against {comparison.baseline}", blocks,
                                f"comparison-{len(sections) + 1}"))
    title = "Comparison: " + " vs ".join(
        [comparisons[0].baseline, *(c.variant for c in comparisons)]) if comparisons else "Comparison"
    return Document(title, "Each outcome's probability in each run, and the difference from the "
                    "first run (the baseline) with its 95% interval. An outcome counts as changed "
                    "when Holm's procedure over every difference shown rejects \"no difference\" "
                    f"at a family-wise error rate of {FAMILY_ERROR:.0%}: models that behave the "
                    f"same show a change in at most about {FAMILY_ERROR:.0%} of comparisons, "
                    "however many outcomes are compared.", sections,
                    footer=f"Made by escalate {__version__}.")


def comparison_json(comparisons: Sequence[Comparison]) -> list[dict[str, Any]]:
    """The comparisons as JSON-ready data."""
    return [{
        "baseline": c.baseline, "variant": c.variant, "method": c.method, "reason": c.reason,
        "relation": c.relation, "family_error": FAMILY_ERROR, "family": c.family,
        "outcomes": {o.outcome: {
            "label": o.label,
            "baseline": {"probability": o.baseline[0], "ci95": list(o.baseline[1:])},
            "variant": {"probability": o.variant[0], "ci95": list(o.variant[1:])},
            "difference": o.difference, "ci95": [o.low, o.high], "method": o.method,
            "unpaired_ci95": list(o.unpaired) if o.unpaired else None,
            "distinguishable": o.distinguishable, "p_value": o.p_value, "changed": o.changed,
        } for o in c.outcomes},
        "only_baseline": list(c.only_baseline), "only_variant": list(c.only_variant),
    } for c in comparisons]


def render_comparisons(comparisons: Sequence[Comparison], format_: str) -> str:
    """The comparisons as JSON (``json``), Markdown without charts (``md``) or an HTML page.

    Raises :class:`UsageError` for another format; the terminal's table is the CLI's.
    """
    if format_ == "json":
        return json.dumps(comparison_json(comparisons), indent=2, allow_nan=False)
    if format_ == "md":
        from .markdown import render_markdown

        text, _ = render_markdown(comparison_document(comparisons), "charts")
        return text
    if format_ == "html":
        from . import plots
        from .html import render_html

        return render_html(comparison_document(comparisons, plots))
    raise UsageError(f"comparison format must be json, md or html, found {format_!r}")
