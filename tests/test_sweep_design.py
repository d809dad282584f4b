"""Sweep designs: SPEC parsing, grids, Latin hypercubes, Sobol sequences, lists of points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from escalate import UsageError
from escalate.distributions import UncertainParameter
from escalate.montecarlo.seeding import design_rng
from escalate.sweeps.design import (
    Distribution,
    Interval,
    Levels,
    ParameterInfo,
    build_design,
    parse_spec,
)


def test_spec_forms_parse() -> None:
    """start:stop:count, start:stop, a list and `dist` are the four SPEC forms."""
    assert parse_spec("p", "0:0.2:21") == Interval(0.0, 0.2, 21)
    assert parse_spec("p", "1:5") == Interval(1.0, 5.0)
    assert parse_spec("p", "0.01, 0.05,0.1") == Levels((0.01, 0.05, 0.1))
    assert parse_spec("p", "dist") == Distribution()


@pytest.mark.parametrize(("spec", "message"), [
    ("0:1:x", "the count 'x' is not a whole number"),
    ("0:1:1", "a count of at least 2"),
    ("0:1:2:3", "expected start:stop:count"),
    ("0.1,abc", "'abc' is not a number, a percentage"),
    ("0.1,10 parsecs", "'10 parsecs' is not a number, a percentage"),
    ("0.1,0.1", "listed twice"),
    ("", "give start:stop:count"),
    ("nan,1", "finite"),
])
def test_malformed_specs_are_refused_with_the_reason(spec: str, message: str) -> None:
    """A malformed SPEC is a UsageError naming the parameter and what is wrong."""
    with pytest.raises(UsageError, match=message):
        parse_spec("p_hub", spec)


def test_specs_take_percentages_and_durations_as_set_does() -> None:
    """A SPEC's values may be written as `--set` and scenario files write them."""
    assert parse_spec("p", "10%,20%") == Levels((0.1, 0.2))
    assert parse_spec("gap", "1 week, 36 hours") == Levels((7.0, 1.5))
    assert parse_spec("p", "5%:25%:5") == Interval(0.05, 0.25, 5)
    assert build_design("grid", {"p": ["10%", 0.3]}).values[:, 0].tolist() == [0.1, 0.3]


@pytest.mark.parametrize("values", [[True, False], [None], [0.1, object()]])
def test_lists_of_values_that_are_not_numbers_are_refused(values: list[object]) -> None:
    """True/false would become 1.0 and 0.0 silently; other objects are no values at all."""
    with pytest.raises(UsageError, match=r"vary\['p'\]: expected a SPEC string"):
        build_design("grid", {"p": values})


@pytest.mark.parametrize("kind", ["lhs", "sobol"])
def test_sampled_designs_refuse_a_count_they_would_ignore(kind: str) -> None:
    """start:stop:count in a Latin hypercube or Sobol design names the count and the fix."""
    with pytest.raises(UsageError, match=r"the count 50 would be ignored; write 0.0:0.2, or "
                                         r"use --design grid"):
        build_design(kind, {"p": "0:0.2:50"}, points=4, rng=design_rng(1))


def test_a_range_gives_evenly_spaced_values_without_float_noise() -> None:
    """0:0.2:21 gives 0, 0.01, ..., 0.2 exactly as written in decimal."""
    design = build_design("grid", {"p": "0:0.2:21"})
    assert design.values[:, 0].tolist() == [round(0.01 * k, 2) for k in range(21)]
    assert design.values[3, 0] == 0.03


def test_a_grid_is_the_full_product_with_the_first_parameter_slowest() -> None:
    """A grid has one point per combination, ordered like nested loops in --vary order."""
    design = build_design("grid", {"a": "1,2", "b": "10,20,30"})
    assert design.values.tolist() == [[1, 10], [1, 20], [1, 30], [2, 10], [2, 20], [2, 30]]
    assert design.names == ("a", "b")
    assert design.describe()["vary"] == {"a": "1.0,2.0", "b": "10.0,20.0,30.0"}


def test_a_grid_refuses_what_it_cannot_enumerate() -> None:
    """`dist`, start:stop without a count and --points have no meaning in a grid."""
    with pytest.raises(UsageError, match="needs --design lhs or sobol"):
        build_design("grid", {"p": "dist"})
    with pytest.raises(UsageError, match="a grid needs start:stop:count"):
        build_design("grid", {"p": "0:1"})
    with pytest.raises(UsageError, match="--points sets the size"):
        build_design("grid", {"p": "0,1"}, points=4)


def test_a_latin_hypercube_puts_one_point_in_each_stratum() -> None:
    """Each parameter's range is cut into N equal strata, each holding exactly one point."""
    design = build_design("lhs", {"a": "0:1", "b": "10:20"}, points=50, rng=design_rng(3))
    for k, (low, high) in enumerate([(0, 1), (10, 20)]):
        strata = np.floor((design.values[:, k] - low) / (high - low) * 50).astype(int)
        assert sorted(strata.tolist()) == list(range(50))


def test_designs_are_reproducible_from_the_seed() -> None:
    """The same seed gives the same points; another seed gives others."""
    first = build_design("sobol", {"a": "0:1"}, points=16, rng=design_rng(1))
    again = build_design("sobol", {"a": "0:1"}, points=16, rng=design_rng(1))
    other = build_design("sobol", {"a": "0:1"}, points=16, rng=design_rng(2))
    assert first.sha256 == again.sha256
    assert first.sha256 != other.sha256


def test_sobol_points_need_not_be_a_power_of_two() -> None:
    """Any number of Sobol points is taken from the next power of two, without a warning."""
    design = build_design("sobol", {"a": "0:1", "b": "0:1"}, points=10, rng=design_rng(5))
    assert design.values.shape == (10, 2)
    # The first 8 points of a scrambled Sobol sequence fill the 8 strata of each axis.
    strata = np.floor(design.values[:8, 0] * 8).astype(int)
    assert sorted(strata.tolist()) == list(range(8))


def test_lists_in_sampled_designs_take_each_value_equally_often() -> None:
    """A list in an LHS design picks among its values, each for an equal share of the points."""
    design = build_design("lhs", {"a": "1,2,3,4"}, points=40, rng=design_rng(0))
    assert np.unique(design.values[:, 0], return_counts=True)[1].tolist() == [10, 10, 10, 10]


def test_dist_follows_the_parameter_distribution() -> None:
    """`dist` maps the design through the inverse CDF of the parameter's own distribution."""
    info = {"p": ParameterInfo(UncertainParameter("beta", (2.0, 5.0)))}
    design = build_design("lhs", {"p": "dist"}, points=400, rng=design_rng(7),
                          parameters=info)
    # A Latin hypercube matches the distribution's quantiles stratum by stratum.
    assert stats.kstest(design.values[:, 0], stats.beta(2, 5).cdf).statistic < 1 / 400 + 1e-9


def test_dist_is_clipped_to_the_parameter_range() -> None:
    """Values drawn from a distribution stay within the parameter's declared range."""
    info = {"x": ParameterInfo(UncertainParameter("normal", (0.0, 1.0)), (-0.5, 0.5))}
    design = build_design("lhs", {"x": "dist"}, points=100, rng=design_rng(1), parameters=info)
    assert design.values.min() == -0.5
    assert design.values.max() == 0.5


def test_dist_needs_a_distribution() -> None:
    """`dist` on a parameter without uncertainty says how to give it one."""
    with pytest.raises(UsageError, match="has no uncertainty distribution"):
        build_design("lhs", {"p": "dist"}, points=4, rng=design_rng(1),
                     parameters={"p": ParameterInfo()})


def test_a_points_file_gives_the_points_in_order(tmp_path: Path) -> None:
    """A list design reads a CSV: a header of names, then one point per row."""
    path = tmp_path / "points.csv"
    path.write_text("p_retaliate,retaliation_delay\n0.1,2\n\n0.4,3.5\n40%,1 week\n",
                    encoding="utf-8")
    design = build_design("list", {}, points_file=path)
    assert design.names == ("p_retaliate", "retaliation_delay")
    assert design.values.tolist() == [[0.1, 2.0], [0.4, 3.5], [0.4, 7.0]]
    assert design.describe()["points_file"] == str(path)


def test_a_bad_points_file_names_the_line_and_column(tmp_path: Path) -> None:
    """A value that is not a number is reported with its line and column name."""
    path = tmp_path / "points.csv"
    path.write_text("a,b\n1,2\n3,oops\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"points.csv:3: b = 'oops' is not a number"):
        build_design("list", {}, points_file=path)


def test_a_list_design_from_columns_zips_them() -> None:
    """In Python, a list design takes equal-length columns: row j is point j."""
    design = build_design("list", {"a": [1, 2, 3], "b": [0.5, 0.6, 0.7]})
    assert design.values.tolist() == [[1, 0.5], [2, 0.6], [3, 0.7]]
    with pytest.raises(UsageError, match="same number"):
        build_design("list", {"a": [1, 2], "b": [1]})


def test_equal_designs_have_equal_hashes_whatever_their_origin(tmp_path: Path) -> None:
    """The design hash depends on names and values only."""
    path = tmp_path / "points.csv"
    path.write_text("a\n1\n2\n", encoding="utf-8")
    assert build_design("list", {}, points_file=path).sha256 == build_design(
        "grid", {"a": "1,2"}).sha256


def test_list_design_refuses_a_point_given_twice() -> None:
    """A list design refuses a repeated point, naming both, as a grid refuses a repeated value;
    points that share some of their values are distinct."""
    assert build_design("list", {"a": [1, 1, 2], "b": [3, 4, 3]}).points == 3
    with pytest.raises(UsageError, match=r"a list design: point 3 repeats point 1 "
                                         r"\(a = 1, b = 3\)"):
        build_design("list", {"a": [1, 2, 1], "b": [3, 4, 3]})


def test_points_file_with_a_repeated_row_names_both_lines(tmp_path: Path) -> None:
    """The repeated row is named by its line, and so is the row it repeats."""
    path = tmp_path / "points.csv"
    path.write_text("a,b\n1,2\n3,4\n1,2\n", encoding="utf-8")
    with pytest.raises(UsageError, match=rf"{path}:4: this point repeats line 2 \(a = 1, b = 2\)"):
        build_design("list", {}, points_file=path)


def test_points_file_that_is_a_device_is_named_as_one() -> None:
    """/dev/null exists, but it is a character device, not a CSV file."""
    with pytest.raises(UsageError, match="is not a regular file: it is a character device"):
        build_design("list", {}, points_file="/dev/null")
