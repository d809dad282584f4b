"""Sweep designs: which parameter values each point of a sweep takes.

A design is a table of values, one row per point and one column per varied
parameter, built by a pure function of the ``--vary`` specifications (and,
for Latin hypercube and Sobol designs, the sweep's design stream):

- ``grid``: the full factorial product of every parameter's values, the first
  parameter varying slowest;
- ``lhs``: a Latin hypercube of ``points`` rows (``scipy.stats.qmc``);
- ``sobol``: the first ``points`` rows of a scrambled Sobol sequence;
- ``list``: points given one by one (a CSV file, or equal-length columns).

A specification is ``start:stop:count`` (``count`` evenly spaced values from
``start`` to ``stop``; in LHS and Sobol designs ``start:stop`` is a uniform
interval), a comma-separated list of values, or ``dist``: the quantiles of the
parameter's own uncertainty distribution (LHS and Sobol only), clipped to
its declared range.  Values are rounded to 15 significant digits, so
``0:0.2:21`` gives 0.01, 0.02, ... rather than 0.030000000000000002.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import math
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..distributions import UncertainParameter, quantile
from ..errors import OutputError, UsageError
from ..spec.quantities import looks_like_quantity, parse_duration, parse_percent

__all__ = [
    "DESIGNS",
    "Design",
    "Distribution",
    "Interval",
    "Levels",
    "ParameterInfo",
    "VarySpec",
    "build_design",
    "parse_spec",
    "read_points_file",
    "spec_from_value",
]

DESIGNS = ("grid", "lhs", "sobol", "list")
MAX_POINTS = 10**8


@dataclass(frozen=True)
class Levels:
    """Explicit values (``0.01,0.05,0.1``); in LHS and Sobol designs, equally likely."""

    values: tuple[float, ...]

    def text(self) -> str:
        return ",".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Interval:
    """``start:stop:count`` (a grid's evenly spaced values) or ``start:stop`` (a uniform range)."""

    start: float
    stop: float
    count: int | None = None

    def text(self) -> str:
        count = "" if self.count is None else f":{self.count}"
        return f"{self.start!r}:{self.stop!r}{count}"


@dataclass(frozen=True)
class Distribution:
    """``dist``: the parameter's own uncertainty distribution."""

    def text(self) -> str:
        return "dist"


VarySpec = Levels | Interval | Distribution


@dataclass(frozen=True)
class ParameterInfo:
    """What a design needs to know of a parameter: its distribution and its range."""

    uncertainty: UncertainParameter | None = None
    bounds: tuple[float, float] | None = None


def parse_value(text: str) -> float | None:
    """A number, percentage (``10%``) or duration (``2 weeks``, in days) as ``--set`` takes
    them; None when the text is none of these."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if not looks_like_quantity(text):
        return None
    try:
        days = parse_duration(text)
    except ValueError:
        return None
    return days if days is not None else parse_percent(text)


def _number(name: str, text: str, whole: str) -> float:
    value = parse_value(text)
    if value is None:
        raise UsageError(f"--vary {name}={whole}: {text.strip()!r} is not a number, a "
                         "percentage (10%) or a duration (2 weeks)")
    if not math.isfinite(value):
        raise UsageError(f"--vary {name}={whole}: values must be finite, found {text.strip()!r}")
    return value


def parse_spec(name: str, text: str) -> VarySpec:
    """Parse the ``SPEC`` of ``--vary NAME=SPEC``; raises :class:`UsageError` when malformed."""
    whole = text
    text = text.strip()
    if text == "dist":
        return Distribution()
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise UsageError(f"--vary {name}={whole}: expected start:stop:count or start:stop")
        start, stop = (_number(name, p, whole) for p in parts[:2])
        count = None
        if len(parts) == 3:
            try:
                count = int(parts[2])
            except ValueError:
                raise UsageError(f"--vary {name}={whole}: the count {parts[2]!r} is not a "
                                 "whole number") from None
            if count < 2:
                raise UsageError(f"--vary {name}={whole}: a range needs a count of at least 2, "
                                 f"found {count}; for a single value write just the value")
            if start == stop:
                # Every value would be the same: the points would repeat one another.
                raise UsageError(f"--vary {name}={whole}: start and stop are both {start:g}, so "
                                 f"the {count} values would be equal; for a single value write "
                                 "just the value")
        return Interval(start, stop, count)
    if not text:
        raise UsageError(f"--vary {name}=: give start:stop:count, a list such as 0.1,0.2, "
                         "or dist")
    values = tuple(_number(name, part, whole) for part in text.split(","))
    if len(set(values)) != len(values):
        raise UsageError(f"--vary {name}={whole}: a value is listed twice")
    return Levels(values)


def spec_from_value(name: str, value: Any) -> VarySpec:
    """Accept a SPEC string, a sequence of numbers or a spec object (for the Python API)."""
    if isinstance(value, Levels | Interval | Distribution):
        return value
    if isinstance(value, str):
        return parse_spec(name, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_spec(name, repr(float(value)))
    problem = UsageError(f"vary[{name!r}]: expected a SPEC string such as '0:1:11' or a list "
                         f"of numbers (percentages and durations as text), found {value!r}")
    try:
        given = list(value)
    except TypeError:
        raise problem from None
    items = []
    for item in given:
        if isinstance(item, bool | np.bool_):
            raise problem  # true/false parameters are not varied; 1.0 and 0.0 would be silent
        number = parse_value(item) if isinstance(item, str) else None
        if number is None and not isinstance(item, str):
            try:
                number = float(item)
            except (TypeError, ValueError):
                number = None
        if number is None:
            raise problem
        items.append(number)
    return parse_spec(name, ",".join(repr(v) for v in items))


@dataclass(frozen=True)
class Design:
    """The points of a sweep: ``values[j, k]`` is parameter ``names[k]`` at point ``j``."""

    kind: str
    names: tuple[str, ...]
    specs: tuple[str, ...]
    values: np.ndarray = field(repr=False)
    points_file: str | None = None

    @property
    def points(self) -> int:
        return int(self.values.shape[0])

    @property
    def sha256(self) -> str:
        """A hash of the names and every value: equal for equal designs, whatever their origin."""
        digest = hashlib.sha256("\0".join(self.names).encode("utf-8"))
        digest.update(np.ascontiguousarray(self.values, dtype="<f8").tobytes())
        return digest.hexdigest()

    def point(self, index: int) -> dict[str, float]:
        """The parameter values of point ``index``."""
        return {name: float(v) for name, v in zip(self.names, self.values[index], strict=True)}

    def describe(self) -> dict[str, Any]:
        """The design as recorded in a sweep's manifest."""
        record: dict[str, Any] = {"kind": self.kind,
                                  "vary": dict(zip(self.names, self.specs, strict=True)),
                                  "points": self.points}
        if self.points_file is not None:
            record["points_file"] = self.points_file
        record["sha256"] = self.sha256
        return record


def _round(values: np.ndarray) -> np.ndarray:
    # 15 significant digits: exact decimal inputs survive linspace and scaling noise.
    return np.array([float(f"{v:.15g}") for v in values.ravel()], dtype=float).reshape(
        values.shape)


def _grid_values(name: str, spec: VarySpec) -> np.ndarray:
    if isinstance(spec, Levels):
        return np.asarray(spec.values, dtype=float)
    if isinstance(spec, Interval):
        if spec.count is None:
            raise UsageError(f"--vary {name}={spec.text()}: a grid needs start:stop:count")
        return _round(np.linspace(spec.start, spec.stop, spec.count))
    raise UsageError(f"--vary {name}=dist: sampling a distribution needs --design lhs or sobol")


def grid(names: Sequence[str], specs: Sequence[VarySpec]) -> np.ndarray:
    """Every combination of the parameters' values, the first parameter varying slowest."""
    axes = [_grid_values(name, spec) for name, spec in zip(names, specs, strict=True)]
    total = math.prod(len(axis) for axis in axes)
    if total > MAX_POINTS:
        raise UsageError(f"the grid has {total:,} points, more than {MAX_POINTS:,}")
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def _qmc_engine(kind: str, dimensions: int, rng: np.random.Generator) -> Any:
    try:
        from scipy.stats import qmc
    except ImportError as exc:
        raise UsageError(f"the {kind} design needs scipy: pip install 'escalate[sweep]'") from exc
    engine = qmc.LatinHypercube if kind == "lhs" else qmc.Sobol
    # SciPy 1.15 renamed `seed` to `rng`; pass whichever this version takes.
    keyword = "rng" if "rng" in inspect.signature(engine).parameters else "seed"
    return engine(dimensions, scramble=True, **{keyword: rng})


def unit_sample(kind: str, points: int, dimensions: int, rng: np.random.Generator) -> np.ndarray:
    """``points`` rows in the unit cube from a Latin hypercube or a scrambled Sobol sequence."""
    engine = _qmc_engine(kind, dimensions, rng)
    if kind == "lhs":
        return np.asarray(engine.random(points))
    # Sobol balance holds for powers of two: draw the next one and keep the first rows.
    return np.asarray(engine.random_base2(max(0, math.ceil(math.log2(points)))))[:points]


# Keep probabilities off 0 and 1, where unbounded distributions have infinite quantiles.
_EDGE = 2.0**-53


def _from_unit(name: str, spec: VarySpec, u: np.ndarray, info: ParameterInfo) -> np.ndarray:
    if isinstance(spec, Levels):
        index = np.minimum((u * len(spec.values)).astype(np.int64), len(spec.values) - 1)
        return np.asarray(spec.values, dtype=float)[index]
    if isinstance(spec, Interval):
        if spec.count is not None:
            # The design, not the specification, says how many values are drawn.
            raise UsageError(f"--vary {name}={spec.text()}: Latin hypercube and Sobol designs "
                             f"draw from start:stop (a uniform range; --points sets how many "
                             f"points), so the count {spec.count} would be ignored; write "
                             f"{spec.start!r}:{spec.stop!r}, or use --design grid")
        return _round(spec.start + (spec.stop - spec.start) * u)
    if info.uncertainty is None:
        raise UsageError(f"--vary {name}=dist: {name!r} has no uncertainty distribution; "
                         "give it `ci90` or `uncertainty` in the scenario, or vary it over "
                         "start:stop or a list")
    values = quantile(info.uncertainty, np.clip(u, _EDGE, 1 - _EDGE))
    if info.bounds is not None:
        values = np.clip(values, info.bounds[0], info.bounds[1])
    return values


def sampled(kind: str, names: Sequence[str], specs: Sequence[VarySpec], points: int,
            rng: np.random.Generator, parameters: Mapping[str, ParameterInfo]) -> np.ndarray:
    """A Latin hypercube or Sobol design mapped through each parameter's specification."""
    unit = unit_sample(kind, points, len(names), rng)
    columns = [_from_unit(name, spec, unit[:, k], parameters.get(name, ParameterInfo()))
               for k, (name, spec) in enumerate(zip(names, specs, strict=True))]
    return np.stack(columns, axis=1)


def read_points_file(path: str | Path) -> tuple[tuple[str, ...], np.ndarray]:
    """Read a CSV of points: a header of parameter names, then one row of numbers per point.

    Raises :class:`UsageError` naming the line and column of a bad value, or
    when the file is missing, a directory or not UTF-8 text, and
    :class:`OutputError` when an existing file cannot be read.
    """
    path = Path(path)
    what = _not_a_regular_file(path)
    if what:
        raise UsageError(f"--points-file {path} {what}; expected a CSV file with a header of "
                         "parameter names and one row per point")
    try:
        # utf-8-sig: spreadsheets often save CSV files with a byte order mark.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = [(number, row) for number, row in enumerate(csv.reader(handle), start=1)
                    if any(cell.strip() for cell in row)]
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise UsageError(f"--points-file {path} is not UTF-8 text (byte 0x{byte:02x} at offset "
                         f"{exc.start}); save it as a UTF-8 CSV file") from None
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not rows:
        raise UsageError(f"{path}: empty; expected a header of parameter names and one row "
                         "per point")
    header = tuple(cell.strip() for cell in rows[0][1])
    if len(set(header)) != len(header) or not all(header):
        raise UsageError(f"{path}:{rows[0][0]}: the header must name each parameter once, "
                         f"found {list(header)}")
    values = np.empty((len(rows) - 1, len(header)))
    for j, (number, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise UsageError(f"{path}:{number}: expected {len(header)} values, found {len(row)}")
        for k, cell in enumerate(row):
            value = parse_value(cell)
            if value is None:
                raise UsageError(f"{path}:{number}: {header[k]} = {cell.strip()!r} is not a "
                                 "number, a percentage (10%) or a duration (2 weeks)")
            values[j, k] = value
            if not math.isfinite(values[j, k]):
                raise UsageError(f"{path}:{number}: {header[k]} = {cell.strip()!r} is not finite")
    if not len(values):
        raise UsageError(f"{path}: no points below the header")
    lines = [number for number, _ in rows[1:]]
    _refuse_repeated_points(header, values, lambda j: f"{path}:{lines[j]}: this point",
                            lambda j: f"line {lines[j]}")
    return header, values


#: what a path is, by the file type in its mode, for paths that are not regular files
_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_a_regular_file(path: Path) -> str:
    """Why ``path`` cannot be read as a points file ("does not exist", ...), or "" when it can."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return ""
    kind = next((name for test, name in _FILE_TYPES if test(mode)), "a special file")
    return f"is not a regular file: it is {kind}"


def _refuse_repeated_points(names: Sequence[str], values: np.ndarray,
                            where: Callable[[int], str], place: Callable[[int], str]) -> None:
    """Refuse a list of points in which one point appears twice, naming both places.

    ``where(j)`` begins the message about the ``j``-th point, ``place(i)`` names the
    ``i``-th point in it.

    A grid refuses a value listed twice; a list refuses a point listed twice, since a
    repeated point is almost always a mistake and would be run twice as two points.
    """
    first: dict[tuple[float, ...], int] = {}
    for j, row in enumerate(values):
        key = tuple(float(v) for v in row)
        if key in first:
            shown = ", ".join(f"{name} = {value:g}" for name, value in zip(names, key, strict=True))
            raise UsageError(f"{where(j)} repeats {place(first[key])} "
                             f"({shown}); list each point once, or raise --replications "
                             "to run a point longer")
        first[key] = j


def build_design(kind: str, vary: Mapping[str, Any], *, points: int | None = None,
                 points_file: str | Path | None = None,
                 rng: np.random.Generator | None = None,
                 parameters: Mapping[str, ParameterInfo] | None = None) -> Design:
    """Build a design of the given ``kind`` from ``vary`` (name -> SPEC or values).

    For ``list`` designs, either ``points_file`` or ``vary`` mapping each name to
    an equal-length sequence of values gives the points.  Raises
    :class:`UsageError` for a specification the design cannot use.
    """
    if kind not in DESIGNS:
        raise UsageError(f"unknown design {kind!r}; choose one of {', '.join(DESIGNS)}")
    if kind == "list":
        return _list_design(vary, points, points_file)
    if points_file is not None:
        raise UsageError("a points file goes with --design list")
    if not vary:
        raise UsageError("nothing to vary: give at least one --vary NAME=SPEC")
    names = tuple(vary)
    specs = tuple(spec_from_value(name, value) for name, value in vary.items())
    if kind == "grid":
        if points is not None:
            raise UsageError("--points sets the size of LHS and Sobol designs; a grid has "
                             "the product of its parameters' counts")
        values = grid(names, specs)
    else:
        if points is None:
            raise UsageError(f"the {kind} design needs --points N")
        if isinstance(points, bool) or not isinstance(points, int) or not (
                1 <= points <= MAX_POINTS):
            raise UsageError(f"--points must be a whole number from 1 to {MAX_POINTS:,}, "
                             f"found {points!r}")
        if rng is None:
            raise UsageError(f"the {kind} design needs a random stream")
        values = sampled(kind, names, specs, points, rng, parameters or {})
    return Design(kind, names, tuple(spec.text() for spec in specs), values)


def _list_design(vary: Mapping[str, Any], points: int | None,
                 points_file: str | Path | None) -> Design:
    if points is not None:
        raise UsageError("--points does not apply to a list design: its file or columns give "
                         "the points")
    if points_file is not None:
        if vary:
            raise UsageError("with --points-file, the file's header names the parameters; "
                             "drop --vary")
        names, values = read_points_file(points_file)
        return Design("list", names, ("list",) * len(names), values, str(points_file))
    if not vary:
        raise UsageError("a list design needs --points-file FILE (or columns of values)")
    columns = {}
    for name, column in vary.items():
        try:
            columns[name] = np.asarray([float(v) for v in column], dtype=float)
        except (TypeError, ValueError):
            raise UsageError(f"vary[{name!r}]: a list design takes a sequence of numbers per "
                             f"parameter, found {column!r}") from None
    lengths = {len(c) for c in columns.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise UsageError("a list design needs the same number (at least one) of values for "
                         f"every parameter, found {', '.join(f'{n}: {len(c)}' for n, c in columns.items())}")
    values = np.stack(list(columns.values()), axis=1)
    if not np.isfinite(values).all():
        raise UsageError("a list design takes finite numbers only")
    _refuse_repeated_points(tuple(columns), values, lambda j: f"a list design: point {j + 1}",
                            lambda j: f"point {j + 1}")
    return Design("list", tuple(columns), ("list",) * len(columns), values)
