"""Commands that read scenarios without running them: validate, schema, graph."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import ScenarioError
from ..report.graphtext import to_dot, to_mermaid
from ..scenario import load
from ..spec.model import ScenarioSpec
from .app import cli
from .common import stdout


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def validate(context: click.Context, files: tuple[Path, ...]) -> None:
    """Check scenario files; exit 0 if all are valid, 2 with every problem if not."""
    failed = 0
    for file in files:
        try:
            scenario = load(file)
        except ScenarioError as exc:
            failed += 1
            sys.stderr.write(f"{file}: invalid: {exc}\n")
            continue
        compiled = scenario.compiled
        stdout.print(f"{file}: valid ({len(compiled.events)} events, "
                     f"{len(compiled.parameter_names)} parameters, "
                     f"{len(compiled.outcomes)} outcomes)", markup=False)
    if failed:
        # Exit through click: a returned status is dropped when the group runs standalone.
        context.exit(2)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors' YAML validation)."""
    document = ScenarioSpec.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "escalate scenario (format 1)"
    click.echo(json.dumps(document, indent=2))


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "format_", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True, help="Diagram language.")
def graph(file: Path, format_: str) -> None:
    """Print the scenario's event graph as a Mermaid or Graphviz diagram."""
    compiled = load(file).compiled
    click.echo(to_mermaid(compiled) if format_ == "mermaid" else to_dot(compiled), nl=False)
