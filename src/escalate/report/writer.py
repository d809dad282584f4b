"""Writing a report file: read a directory, build its document, render HTML or Markdown."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import OutputError, UsageError
from ..results.destination import check_output_file, file_in_the_way
from ..results.formats import REPORT_STEM, chart_folder
from ..results.reader import RunData, SensitivityData, SweepData, read_directory
from .document import Document

__all__ = [
    "FORMATS",
    "build_document",
    "default_report_path",
    "write_document",
    "write_report",
    "write_text",
]

FORMATS = ("html", "md")


def build_document(data: RunData | SweepData | SensitivityData) -> Document:
    """The report of a run, a sweep or a sensitivity analysis (matplotlib is needed here)."""
    if isinstance(data, RunData):
        from .runreport import build_run_document
        return build_run_document(data)
    if isinstance(data, SweepData):
        from .sweepreport import build_sweep_document
        return build_sweep_document(data)
    from .sensitivityreport import build_sensitivity_document
    return build_sensitivity_document(data, data.manifest.get("outcomes") or None)


def default_report_path(directory: Path, format_: str) -> Path:
    return directory / f"{REPORT_STEM}.{format_}"


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file, then a rename).

    Raises :class:`OutputError` naming the path and why, such as a file where
    a directory should be.
    """
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        blocker = file_in_the_way(path)
        reason = f"{blocker} is a file, not a directory" if blocker else exc.strerror or exc
        raise OutputError(f"cannot write {path}: {reason}") from exc


#: the suffixes of a file that a report of each format may replace
REPORT_SUFFIXES = {"html": (".html", ".htm"), "md": (".md", ".markdown")}


def check_report_path(out: Path, format_: str, *, option: str = "--out") -> None:
    """Refuse ``out`` (and, for Markdown, its charts' folder) before the report is built.

    ``option`` names where ``out`` came from in messages ("" for the default
    path).  Raises :class:`UsageError` for a directory where the file goes, a
    regular file where the charts' folder goes, a path under a regular file,
    or an existing file that is not a report to replace
    (:func:`~escalate.results.destination.check_output_file`).
    """
    hint = f"such as {out / f'report.{format_}'}" if option else "give a file with --out FILE"
    check_output_file(out, option=option, hint=hint, suffixes=REPORT_SUFFIXES.get(format_, ()))
    charts = out.parent / chart_folder(out.stem)
    if format_ == "md" and charts.exists() and not charts.is_dir():
        named = f"{option} {out}" if option else str(out)
        raise UsageError(f"{named} puts its charts in {charts}, which is a file, not a directory "
                         "(hint: give the report another name; the file was left as it is)")


def write_document(document: Document, out: Path, format_: str) -> list[Path]:
    """Render ``document`` to ``out``; return every file written (Markdown adds its charts).

    Markdown charts go to ``<stem>_files/`` beside the Markdown file.
    """
    if format_ not in FORMATS:
        raise UsageError(f"report format must be one of {', '.join(FORMATS)}, found {format_!r}")
    check_report_path(out, format_)
    if format_ == "html":
        from .html import render_html
        write_text(out, render_html(document))
        return [out]
    from .markdown import render_markdown
    image_dir = chart_folder(out.stem)
    text, files = render_markdown(document, image_dir)
    written = []
    for relative, svg in files.items():
        target = out.parent / relative
        write_text(target, svg)
        written.append(target)
    write_text(out, text)
    return [out, *written]


def write_report(directory: str | Path, format_: str = "html",
                 out: str | Path | None = None) -> list[Path]:
    """Write the report of a run, sweep or sensitivity directory; ``out`` defaults to ``DIR/report.<format>``.

    Raises :class:`OutputError` for a directory that is not a result directory,
    :class:`UsageError` for an ``out`` that cannot be a report file
    (:func:`check_report_path`), checked before the report is built.
    """
    directory = Path(directory)
    target = Path(out) if out is not None else default_report_path(directory, format_)
    data = read_directory(directory)
    # A wrong --out is the user's to fix before the report is built.
    check_report_path(target, format_, option="--out" if out is not None else "")
    document = build_document(data)
    return write_document(document, target, format_)
