"""The command group that every command module registers on."""

from __future__ import annotations

import click

from .._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="escalate")
def cli() -> None:
    """Escalation scenarios as explicit assumptions, run as discrete-event Monte Carlo.

    Write a scenario in YAML, check it with `escalate validate`, run it with
    `escalate run`, read one replication with `escalate trace`.
    """
