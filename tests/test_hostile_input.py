"""Hostile and broken scenario files: a clear message and exit 2, quickly, in bounded memory.

Each file is checked the way a user would meet it, by ``escalate validate`` in a
subprocess, and measured against the start-up of ``escalate validate`` on a
tiny valid file in the same test: the work after start-up must take under a
second of wall time and under 150 MB.  When the wall time is over but the CPU
time is not, the machine was busy rather than the work long, and both are
measured again (five attempts at most).  Expressions that try to escape the language are
refused at validation with their position; scenarios that try to exhaust
time or memory at run time are stopped by the documented limits
(``docs/limits.md``) and the run says so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from process_helpers import Measured, run_measured

import escalate
from escalate.engine import reference
from escalate.workflow import trace

BUDGET_SECONDS = 1.0
BUDGET_MB = 150.0
ATTEMPTS = 5  # a busy machine (parallel test workers) can slow one measurement
# A child still running this long has hung; one this big is leaking.
KILL_AFTER_SECONDS = 6.0
KILL_ABOVE_MB = 1_000.0

TINY = """\
escalate: 1
name: tiny
horizon: 10
events:
  start: {at: 0, end: done}
"""


def _header(body: str) -> str:
    return f"escalate: 1\nname: hostile\nhorizon: 10\n{body}"


def _alias_bomb() -> str:
    # "Billion laughs": nine levels of nine aliases expand to 9**9 strings.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        aliases = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def _quadratic_blowup() -> str:
    # One long string aliased many times: small on disk, gigabytes once expanded.
    aliases = ", ".join(["*long"] * 150_000)
    return _header(f"description: &long {'x' * 19_000}\nladder: [{aliases}]\n"
                   "events:\n  start: {at: 0, end: done}\n")


def _deep_block_mappings(depth: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "leaf\n"


#: name -> (file content, pattern the message must match)
HOSTILE_FILES: dict[str, tuple[Callable[[], str | bytes], str]] = {
    "python object": (lambda: 'escalate: 1\nname: !!python/object/apply:os.system ["touch PWNED"]\n',
                      r"tag .*python/object/apply:os\.system.* is not allowed"),
    "python name": (lambda: "escalate: 1\nname: !!python/name:os.system\n",
                    r"tag .*python/name:os\.system.* is not allowed"),
    "python module": (lambda: "escalate: 1\nname: !!python/module:os\n",
                      r"tag .*python/module:os.* is not allowed"),
    "local tag": (lambda: "escalate: 1\nname: !include /etc/passwd\n",
                  r"tag '!include' is not allowed"),
    "binary tag": (lambda: "escalate: 1\nname: !!binary aGVsbG8=\n",
                   r"tag .*binary.* is not allowed"),
    "set tag": (lambda: "escalate: 1\nname: !!set {a, b}\n", r"tag .*set.* is not allowed"),
    "alias bomb": (_alias_bomb, r"more than 100,000 values \(after expanding aliases\)"),
    "quadratic alias blowup": (_quadratic_blowup, r":5:\d+: more than 1,000 YAML aliases"),
    "a flat list of 2.4 million values": (
        lambda: "x: [" + ",".join(["1"] * 2_400_000) + "]\n", r"more than 100,000 values"),
    # The document's mapping is level 0: the 65th bracket, at column 4 + 64, is one too deep.
    "1000 nested lists": (lambda: "x: " + "[" * 1000 + "]" * 1000 + "\n",
                          r":1:68: nested more than 64 levels deep"),
    "100,000 nested lists": (lambda: "x: " + "[" * 100_000 + "]" * 100_000 + "\n",
                             r":1:68: nested more than 64 levels deep"),
    "1000 nested mappings": (lambda: "x: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n",
                             r":1:260: nested more than 64 levels deep"),  # 4 + 4 * 64
    "1000 nested block mappings": (lambda: _deep_block_mappings(1000),
                                   r":66:131: nested more than 64 levels deep"),  # 1 + 2 * 65
    "a 4 MB quoted string": (lambda: f'escalate: 1\nname: "{"x" * 4_000_000}"\n',
                             r"a value of 4,000,000 characters; the limit is 100,000"),
    "a 4 MB plain string": (lambda: f"escalate: 1\nname: {'x' * 4_000_000}\n",
                            r"a value of 4,000,000 characters"),
    "a 6 MB file": (lambda: f'escalate: 1\nname: "{"x" * 6_000_000}"\n',
                    r"file is 6,000,0\d\d bytes; the limit is 5,000,000"),
    "latin-1 bytes": (lambda: b"escalate: 1\nname: caf\xe9\n",
                      r":2:10: the file is not valid UTF-8 \(byte 0xe9\)"),
    "UTF-16 with a byte-order mark": (lambda: "escalate: 1\n".encode("utf-16"),
                                      r"not valid UTF-8"),
    "an encoded surrogate": (lambda: b"escalate: 1\nname: \xed\xa0\x80\n", r"not valid UTF-8"),
    "a NUL byte": (lambda: "escalate: 1\nname: a\x00b\n", r"control character #x0000"),
    "NaN horizon": (lambda: _header("").replace("horizon: 10", "horizon: .nan") +
                    "events:\n  start: {at: 0, end: done}\n",
                    r"horizon: expected a finite number, found float nan"),
    "infinite parameter": (lambda: _header("parameters:\n  p: {value: .inf}\n"
                                           "events:\n  start: {at: 0, end: done}\n"),
                           r"parameters\.p\.value: expected a finite number, found float inf"),
    "minus infinite probability": (
        lambda: _header("events:\n  start: {at: 0, choose: {stop: -.inf}}\n  stop: {end: done}\n"),
        r"events\.start\.choose\.stop: expected a finite number, found float -inf"),
    "NaN delay": (lambda: _header("events:\n  start: {at: 0, then: [stop]}\n"
                                  "  stop: {after: .nan, end: done}\n"),
                  r"events\.stop\.after: expected a finite number, found float nan"),
    "a float beyond 1e308": (lambda: _header("").replace("horizon: 10", "horizon: 1.0e+400") +
                             "events:\n  start: {at: 0, end: done}\n",
                             r"horizon: expected a finite number, found float inf"),
    "an integer too large for a float": (
        lambda: _header("").replace("horizon: 10", "horizon: 1" + "0" * 400) +
        "events:\n  start: {at: 0, end: done}\n", r"horizon: the number .* is too large"),
    "max_events of 10**400": (
        lambda: _header("max_events: 1" + "0" * 400 + "\nevents:\n  start: {at: 0, end: done}\n"),
        r"max_events: the number .* is too large"),
    "an empty file": (lambda: "", r":1:1: the file is empty"),
    "only blank lines": (lambda: "\n\n   \n", r"the file is empty"),
    "only a comment": (lambda: "# nothing here\n", r"the file is empty"),
    "an empty document": (lambda: "---\n...\n", r":1:1: the file is empty"),
    "a list, not a mapping": (lambda: "- escalate: 1\n- name: x\n",
                              r":1:1: a scenario is a mapping of fields, found list"),
    "two documents": (lambda: "escalate: 1\n---\nescalate: 1\n",
                      r":2:1: invalid YAML: expected a single document in the stream"),
}


class Startup:
    """Measures the start-up cost: ``escalate validate`` on a tiny valid file."""

    def __init__(self, folder: Path) -> None:
        self.tiny = folder / "tiny.yaml"
        self.tiny.write_text(TINY, encoding="utf-8")
        self.measured = self.measure()

    def measure(self) -> Measured:
        measured = run_measured(["validate", str(self.tiny)])
        assert measured.returncode == 0, measured.stderr
        self.measured = measured
        return measured


@pytest.fixture
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Startup:
    """The start-up cost of the command line, measured in the test that uses it."""
    return Startup(tmp_path_factory.mktemp("startup"))


def _assert_refused_promptly(run_case: Callable[[], Measured], baseline: Startup,
                             pattern: str) -> Measured:
    """Exit 2 with a matching message and no traceback, within the time and memory budget."""
    for attempt in range(1, ATTEMPTS + 1):
        measured = run_case()
        assert not measured.timed_out, f"still running after {measured.seconds:.1f} s"
        assert not measured.killed_for_memory, f"killed above {KILL_ABOVE_MB:.0f} MB"
        assert measured.returncode == 2, measured.stderr[-2000:]
        assert "Traceback" not in measured.stderr, measured.stderr[-2000:]
        assert re.search(pattern, measured.stderr), measured.stderr[:2000]
        startup = baseline.measured
        assert measured.peak_mb < startup.peak_mb + BUDGET_MB, (
            f"peak {measured.peak_mb:.0f} MB against {startup.peak_mb:.0f} MB for a tiny file")
        extra_seconds = measured.seconds - startup.seconds
        extra_cpu = measured.cpu_seconds - startup.cpu_seconds
        if extra_seconds < BUDGET_SECONDS:
            return measured
        slow = (f"{extra_seconds:.2f} s after start-up ({measured.seconds:.2f} s against "
                f"{startup.seconds:.2f} s for a tiny file; CPU {extra_cpu:.2f} s more)")
        assert extra_cpu < BUDGET_SECONDS, slow
        assert attempt < ATTEMPTS, slow
        # The work was short but the machine busy: measure both again.
        baseline.measure()
    raise AssertionError("unreachable")


def _validate(path: Path, cwd: Path | None = None) -> Callable[[], Measured]:
    return lambda: run_measured(["validate", str(path)], cwd=cwd, timeout=KILL_AFTER_SECONDS,
                                max_mb=KILL_ABOVE_MB)


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_hostile_file_is_refused_with_exit_2_quickly_in_bounded_memory(
        name: str, tmp_path: Path, baseline: Startup) -> None:
    """Each hostile or broken file ends in exit 2 and a clear message, in under 1 s and 150 MB."""
    build, pattern = HOSTILE_FILES[name]
    content = build()
    path = tmp_path / "hostile.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    measured = _assert_refused_promptly(_validate(path, cwd=tmp_path), baseline, pattern)
    assert str(path) in measured.stderr
    assert not (tmp_path / "PWNED").exists(), "a YAML tag ran a command"


def test_a_directory_is_refused(tmp_path: Path, baseline: Startup) -> None:
    """A directory given as the scenario file is refused with exit 2."""
    _assert_refused_promptly(_validate(tmp_path), baseline, r"is a directory, not a scenario file")


def test_a_missing_file_is_refused(tmp_path: Path, baseline: Startup) -> None:
    """A file that does not exist is refused with exit 2."""
    _assert_refused_promptly(_validate(tmp_path / "nowhere.yaml"), baseline, r"no such file")


#: what a device or a pipe is told, before anything is read from it
NOT_A_FILE = r": is not a regular file \(a device, pipe or socket\)"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_that_never_ends_is_refused(device: str, baseline: Startup) -> None:
    """A character device (an endless stream of bytes) is refused, not read until memory runs out."""
    if not Path(device).exists():
        pytest.skip(f"{device} does not exist here")
    _assert_refused_promptly(_validate(Path(device)), baseline, NOT_A_FILE)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_with_no_writer_is_refused(tmp_path: Path, baseline: Startup) -> None:
    """A named pipe nobody writes to is refused, not waited on forever."""
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    _assert_refused_promptly(_validate(fifo), baseline, NOT_A_FILE)


@pytest.mark.parametrize("command", [["run", "-n", "10"], ["trace"], ["graph"]])
def test_every_command_refuses_a_hostile_file_with_exit_2(
        command: list[str], tmp_path: Path, baseline: Startup) -> None:
    """`run`, `trace` and `graph` refuse an alias bomb as `validate` does."""
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(), encoding="utf-8")
    _assert_refused_promptly(
        lambda: run_measured([*command, str(path)], timeout=KILL_AFTER_SECONDS,
                             max_mb=KILL_ABOVE_MB), baseline, r"more than 100,000 values")


# -- expressions that try to escape -----------------------------------------------------------

EXPRESSION_LINE = 6
# Column of the first character inside the quotes of `when: "..."` below.
EXPRESSION_COLUMN = 21


def _guarded(expression: str) -> str:
    return ("escalate: 1\nname: escape\nhorizon: 10\nstate: {x: 1}\nevents:\n"
            f'  a: {{at: 0, when: "{expression}", end: done}}\n')


#: expression -> (offset of the character the message must point at, message pattern)
ESCAPES: dict[str, tuple[int, str]] = {
    "x + __import__('os')": (4, r"the name '__import__' is not allowed"),
    "__builtins__": (0, r"the name '__builtins__' is not allowed"),
    "x.__class__": (1, r"attribute access is not allowed"),
    "x.real > 0": (1, r"attribute access is not allowed"),
    "globals() == 1": (0, r"unknown function 'globals'"),
    "eval(x) > 0": (0, r"unknown function 'eval'"),
    "open(x) > 0": (0, r"unknown function 'open'"),
    "lambda: 1": (0, r"'lambda' is not allowed"),
    "[y for y in x]": (0, r"unexpected character '\['"),
    "x > 0 and (y for y in x)": (13, r"'for' is not allowed"),
    "x[0] > 0": (1, r"indexing is not allowed"),
    "x > 0; import os": (5, r"unexpected character ';'"),
    "x == 'a'": (5, r"strings are not part of the expression language"),
    "10**10**10 > x": (2, r"the exponent 1e\+10 is too large"),
    "2**-2000 > x": (1, r"the exponent -2000 is too large"),
    "1e400 > x": (0, r"the number 1e400 is too large"),
    "x if x > 0 else 1": (2, r"unexpected 'if' after a complete expression"),
    "(" * 200 + "x" + ")" * 200 + " > 0": (65, r"nested more than 64 levels deep"),
    "-" * 1000 + "x > 0": (65, r"nested more than 64 levels deep"),
    "not " * 400 + "x > 0": (260, r"nested more than 64 levels deep"),
    "x > " + "+".join(["1"] * 1200): (0, r"the limit is 2,000"),
}


@pytest.mark.parametrize("expression", list(ESCAPES), ids=lambda e: e[:30])
def test_expression_escape_is_refused_at_its_position(expression: str) -> None:
    """Attempts to reach Python, huge powers and deep nesting fail validation where they are."""
    offset, pattern = ESCAPES[expression]
    with pytest.raises(escalate.ScenarioError, match=pattern) as caught:
        escalate.loads(_guarded(expression), "escape.yaml")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.path == "events.a.when"
    assert (diagnostic.line, diagnostic.column) == (EXPRESSION_LINE, EXPRESSION_COLUMN + offset)


def test_validate_prints_the_position_of_an_escape(tmp_path: Path) -> None:
    """The command line shows file:line:column of the forbidden name."""
    path = tmp_path / "escape.yaml"
    path.write_text(_guarded("x + __import__('os')"), encoding="utf-8")
    measured = run_measured(["validate", str(path)], timeout=KILL_AFTER_SECONDS)
    assert measured.returncode == 2
    assert f"{path}:{EXPRESSION_LINE}:{EXPRESSION_COLUMN + 4}: events.a.when" in measured.stderr


# -- scenarios that try to exhaust time or memory at run time --------------------------------

def _fan_out(width: int) -> str:
    successors = ", ".join(["spread"] * width)
    return ("escalate: 1\nname: fan-out\nhorizon: 1000\nevents:\n"
            f"  seed: {{at: 0, then: [{successors}]}}\n"
            f"  spread: {{after: 1 day, then: [{successors}]}}\n")


def _schedule_and_cancel(width: int, max_events: int) -> str:
    successors = ", ".join(["far"] * width)
    return ("escalate: 1\nname: schedule and cancel\nhorizon: 1000\n"
            f"max_events: {max_events}\nevents:\n"
            f"  tick: {{at: 0, then: [{successors}, withdraw], repeat: {{every: 0.001 days}}}}\n"
            "  far: {after: 500 days}\n"
            "  withdraw: {cancels: [far]}\n")


ENDLESS_REPEAT = """\
escalate: 1
name: endless repeat
horizon: 1000000 days
events:
  tick: {at: 0, repeat: {every: 1 day}}
"""


def test_a_graph_that_fans_out_without_bound_is_stopped_in_bounded_memory(
        tmp_path: Path, baseline: Startup) -> None:
    """A thousand successors per firing reach the 100,000 pending limit, not the memory limit."""
    path = tmp_path / "fan.yaml"
    path.write_text(_fan_out(1000), encoding="utf-8")
    measured = run_measured(["run", str(path), "-n", "1", "--quiet", "--format", "json"],
                            timeout=60.0, max_mb=KILL_ABOVE_MB)
    assert measured.returncode == 0, measured.stderr[-2000:]
    assert '"runaway": 1' in measured.stdout
    # 100,000 pending occurrences hold about 100 MB.
    assert measured.peak_mb < baseline.measured.peak_mb + BUDGET_MB


def test_fan_out_stops_with_terminal_max_events_and_says_why(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The replication ends as `max_events`, counted as a runaway, with the reason in its log."""
    monkeypatch.setattr(reference, "MAX_PENDING", 500)
    scenario = escalate.loads(_fan_out(10), "fan.yaml")
    result = escalate.run(scenario, replications=5, seed=1, engine="reference")
    assert result.summary["runaway"] == 5
    record, _, _ = trace(scenario, seed=1, engine="reference")
    assert record.terminal == "max_events"
    assert record.log is not None
    assert record.log[-1].detail == "more than 500 occurrences pending"
    # Each firing schedules ten: the limit is met after about 50 firings, not 10,000.
    assert record.events_fired < 100


@pytest.mark.parametrize("engine", ["reference", "auto"])
def test_scheduling_and_cancelling_without_end_stays_in_bounded_memory(
        engine: str, tmp_path: Path, baseline: Startup) -> None:
    """250,000 occurrences scheduled and withdrawn do not pile up: the run ends at max_events."""
    path = tmp_path / "cancel.yaml"
    path.write_text(_schedule_and_cancel(250, max_events=2000), encoding="utf-8")
    measured = run_measured(["run", str(path), "-n", "1", "--quiet", "--format", "json",
                             "--engine", engine], timeout=30.0, max_mb=KILL_ABOVE_MB)
    assert not measured.timed_out, f"still running after {measured.seconds:.0f} s"
    assert measured.returncode == 0, measured.stderr[-2000:]
    assert '"runaway": 1' in measured.stdout
    # Kept until due, the withdrawn occurrences would hold about 250 MB.
    assert measured.peak_mb < baseline.measured.peak_mb + 100


def test_a_repeat_without_end_is_stopped_at_max_events(tmp_path: Path) -> None:
    """A repeat with no `max` and no `while` stops at 10,000 events and the output says so."""
    path = tmp_path / "repeat.yaml"
    path.write_text(ENDLESS_REPEAT, encoding="utf-8")
    measured = run_measured(["run", str(path), "-n", "2", "--quiet"], timeout=60.0)
    assert measured.returncode == 0, measured.stderr[-2000:]
    assert "2 replications exceeded max_events and were stopped" in measured.stdout


@pytest.mark.parametrize(("change", "pattern"), [
    (("horizon: 10", "horizon: 1e12 days"), r"beyond the limit of 1,000,000 days"),
    (("horizon: 10", "horizon: 10\nmax_events: 100000000000"),
     r"max_events: input should be less than or equal to 10000000"),
])
def test_run_time_limits_beyond_the_documented_ones_are_refused(
        change: tuple[str, str], pattern: str, tmp_path: Path, baseline: Startup) -> None:
    """A horizon of 1e12 days or 1e11 events per replication is refused before anything runs."""
    path = tmp_path / "big.yaml"
    path.write_text(TINY.replace(*change), encoding="utf-8")
    _assert_refused_promptly(
        lambda: run_measured(["run", str(path), "-n", "10", "--quiet"],
                             timeout=KILL_AFTER_SECONDS), baseline, pattern)


def test_more_replications_than_the_limit_are_refused(tmp_path: Path) -> None:
    """Asking for 10**10 replications is a usage error (exit 2), not a run of days."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    measured = run_measured(["run", str(path), "-n", str(10**10)], timeout=KILL_AFTER_SECONDS)
    assert measured.returncode == 2
    assert "10000000000" in measured.stderr
