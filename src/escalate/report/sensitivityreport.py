"""The report of a sensitivity analysis, and the rows and sentences the terminal shows of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._version import __version__
from ..analysis.sensitivity import MORRIS_LEVELS, NOISE_WARNING
from ..results.sensitivitydir import SensitivityData
from .document import Block, Code, Document, Figure, Paragraph, Section, Table
from .formatting import percent

__all__ = ["build_sensitivity_document", "index_columns", "noise_sentence", "ranking_rows"]


def index_columns(method: str) -> tuple[str, ...]:
    """The headings of a method's index columns, in the order :func:`ranking_rows` gives them."""
    if method == "sobol":
        return ("first-order S1", "95% ±", "total ST", "95% ±")
    return ("μ*", "95% ±", "μ", "σ")


def ranking_rows(method: str, entry: Mapping[str, Any]) -> list[list[str]]:
    """Rows ``rank, parameter, indices...`` in order of influence."""
    keys = ("S1", "S1_conf", "ST", "ST_conf") if method == "sobol" else (
        "mu_star", "mu_star_conf", "mu", "sigma")
    return [[str(rank), name, *(f"{entry['indices'][name][key]:.3f}" for key in keys)]
            for rank, name in enumerate(entry["ranking"], start=1)]


def noise_sentence(data: Mapping[str, Any], entry: Mapping[str, Any]) -> str:
    """What replication noise does to one outcome's indices, with a warning when it is large."""
    noise = entry["noise"]
    share = noise["share"]
    text = (f"Replication noise: with {data['replications_per_point']} replications per point, "
            f"each point's probability carries a binomial standard error of about "
            f"{100 * noise['sd']:.2f} percentage points on average")
    if share is None:
        return text + "."
    text += (f", at most {100 * share:.1f}% of the variance across points (common random "
             f"numbers cancel much of it, which this bound ignores): indices differing by less "
             f"than about {share:.3f} are not told apart")
    if share > NOISE_WARNING:
        text += "; that is large: run again with more --replications"
    return text + "."


def _engine_rows(result: Mapping[str, Any]) -> list[list[str]]:
    """The engines that ran the points and the one asked for (none before they were recorded)."""
    if "engine" not in result:
        return []
    return [["engine", f"{', '.join(result['engines'])} (asked for: {result['engine']})"]]


def build_sensitivity_document(data: SensitivityData, outcomes: Sequence[str] | None = None) -> Document:
    """The report of a sensitivity analysis: method, tornado chart and ranking per outcome."""
    from . import plots
    from .runreport import provenance_rows, scenario_sections

    result = data.result
    method = str(result["method"])
    sections = scenario_sections(data.spec, {}, None)
    parameter_rows = [[Code(p["name"]), p["label"], p["distribution"],
                       f"{p['low']:.4g} – {p['high']:.4g}"] for p in result["parameters"]]
    low, high = result["quantiles"]
    how = (f"Sobol' indices (Saltelli sampling, {result['samples']} base samples, "
           f"Jansen/Saltelli estimators in SALib) with bootstrap 95% intervals; parameters "
           f"sampled between their {100 * low:g}% and {100 * high:g}% quantiles"
           if method == "sobol" else
           f"Morris elementary effects ({result['samples']} trajectories, {MORRIS_LEVELS} "
           f"levels) with bootstrap 95% intervals on μ*; parameters moved across their "
           f"{100 * low:g}%–{100 * high:g}% quantile range, so μ* is the mean absolute change "
           f"in probability for a swing across that range")
    sections.append(Section("Method", [
        Paragraph(f"{how}. {result['points']:,} points, {result['replications_per_point']} "
                  f"replications each, all on the same random streams (seed {result['seed']})."),
        Table(["parameter", "meaning", "uncertainty", "values sampled"], parameter_rows,
              kind="sensitivity-parameters"),
    ], "method"))
    chosen = list(outcomes) if outcomes else list(result["outcomes"])
    for name in chosen:
        entry = result["outcomes"][name]
        label = entry["label"] or name
        blocks: list[Block] = [Paragraph(f"Mean probability over the sample "
                                         f"{percent(entry['mean'])}.")]
        if entry["constant"]:
            blocks.append(Paragraph("The probability did not vary across the sample, so no "
                                    "parameter shows any influence on it.", note=True))
        else:
            ranking = entry["ranking"]
            if method == "sobol":
                bars = [("total ST", [entry["indices"][n]["ST"] for n in ranking],
                         [entry["indices"][n]["ST_conf"] for n in ranking]),
                        ("first-order S1", [entry["indices"][n]["S1"] for n in ranking],
                         [entry["indices"][n]["S1_conf"] for n in ranking])]
                axis = "Sobol' index (share of the variance of the probability)"
            else:
                bars = [("μ*", [entry["indices"][n]["mu_star"] for n in ranking],
                         [entry["indices"][n]["mu_star_conf"] for n in ranking])]
                axis = "μ*: mean absolute change in probability across the parameter's range"
            blocks.append(Figure(f"tornado-{name}", plots.tornado_chart(ranking, bars, axis),
                                 f"{label}: parameters by influence, largest first, with 95% "
                                 "intervals.", f"Tornado chart of the parameters' influence on "
                                 f"{label}: " + ", ".join(ranking[:5])))
            blocks.append(Table(["rank", "parameter", *index_columns(method)],
                                ranking_rows(method, entry), kind="ranking",
                                numeric=frozenset({0, 2, 3, 4, 5})))
        blocks.append(Paragraph(noise_sentence(result, entry), note=True))
        sections.append(Section(f"Sensitivity of {label}", blocks, f"outcome-{len(sections)}"))
    sections.append(Section("How this analysis was made", [
        # The wall time is the manifest's, among the provenance rows.
        Table(["", ""], [["seed", str(result["seed"])], *_engine_rows(result),
                         *provenance_rows(data.manifest)], kind="provenance")], "provenance"))
    name = data.spec.name if data.spec is not None else data.label
    return Document(name, f"Sensitivity analysis ({method}) of the outcome probabilities to the "
                    "uncertain parameters", sections,
                    footer=f"Made by escalate {__version__} from {data.label}.")
