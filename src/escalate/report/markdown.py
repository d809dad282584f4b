"""A report as Markdown text with its charts as SVG files beside it.

User text is escaped for Markdown *and* for HTML, since Markdown renderers
pass raw HTML through: ``<script>`` becomes ``&lt;script&gt;``, ``*`` and
``_`` lose their emphasis, ``|`` cannot break a table.  Links keep only
http(s) and mailto URLs (see :func:`.html.safe_url`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from urllib.parse import quote

from .document import (
    Block,
    BulletList,
    Code,
    Details,
    Document,
    Figure,
    Inline,
    Inlines,
    Link,
    Paragraph,
    Preformatted,
    Strong,
    Table,
)
from .html import safe_url

__all__ = ["escape_markdown", "render_markdown"]

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Characters left as they are in a link target; "<", ">", spaces and quotes are percent-encoded.
_URL_SAFE = ":/?#@!$&*+,;=%~-._"


def escape_markdown(text: str) -> str:
    """Escape text so that a Markdown renderer shows it literally, on one line."""
    text = " ".join(text.split())
    text = "".join(_ENTITIES.get(ch, ch) for ch in text)
    text = _SPECIAL.sub(r"\\\1", text)
    # A leading "-", "+" or "1." would start a list; "=" or "-" alone a heading underline.
    return re.sub(r"^(\d+)\.", r"\1\\.", text) if text[:1].isdigit() else (
        "\\" + text if text[:1] in ("-", "=") else text)


def _code(text: str) -> str:
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(content: Inline | Inlines) -> str:
    if isinstance(content, str):
        return escape_markdown(content)
    if isinstance(content, Link):
        url = safe_url(content.url)
        if url is None:
            return escape_markdown(content.text)
        target = quote(url, safe=_URL_SAFE)
        return f"[{escape_markdown(content.text)}](<{target}>)"
    if isinstance(content, Code):
        return _code(content.text)
    if isinstance(content, Strong):
        return f"**{escape_markdown(content.text)}**"
    return "".join(_inline(piece) for piece in content)


def _cell(content: Inline | Inlines) -> str:
    """A table cell: inline text whose code spans have their pipes escaped too.

    GitHub-flavoured Markdown splits a row at every unescaped ``|``, inside code
    spans as well, before it reads the spans: a terminal label with a ``|`` in
    it would otherwise end its cell and leave the rest of the label as markup.
    """
    if isinstance(content, Code):
        return _code(content.text).replace("|", "\\|")
    if isinstance(content, str | Link | Strong):
        return _inline(content)
    return "".join(_cell(piece) for piece in content)


def _table(table: Table) -> list[str]:
    lines = []
    if table.caption:
        lines += [f"*{escape_markdown(table.caption)}*", ""]
    lines.append("| " + " | ".join(escape_markdown(c) for c in table.columns) + " |")
    lines.append("| " + " | ".join("---:" if i in table.numeric else "---"
                                   for i in range(len(table.columns))) + " |")
    for row in table.rows:
        lines.append("| " + " | ".join(_cell(cell) or " " for cell in row) + " |")
    return [*lines, ""]


def _blocks(blocks: Sequence[Block], image_dir: str) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            text = _inline(block.content)
            lines += [f"*{text}*" if block.note and text else text, ""]
        elif isinstance(block, BulletList):
            lines += [f"- {_inline(item)}" for item in block.items] + [""]
        elif isinstance(block, Table):
            lines += _table(block)
        elif isinstance(block, Figure):
            path = PurePosixPath(image_dir) / f"{block.name}.svg"
            lines += [f"![{escape_markdown(block.alt)}]({quote(str(path))})", "",
                      f"*{escape_markdown(block.caption)}*", ""]
        elif isinstance(block, Preformatted):
            longest = max((len(run) for run in re.findall(r"`+", block.text)), default=0)
            fence = "`" * max(3, longest + 1)
            lines += [f"{fence}{block.language}", block.text.rstrip("\n"), fence, ""]
        elif isinstance(block, Details):
            lines += [f"**{escape_markdown(block.summary)}**", ""]
            lines += _blocks(block.blocks, image_dir)
    return lines


def render_markdown(document: Document, image_dir: str) -> tuple[str, dict[str, str]]:
    """Return the Markdown text and the SVG files it links to ({relative path: svg text}).

    ``image_dir`` is the folder, relative to the Markdown file, that will hold the charts.
    """
    lines = [f"# {escape_markdown(document.title)}", ""]
    if document.subtitle:
        lines += [escape_markdown(document.subtitle), ""]
    for section in document.sections:
        lines += [f"## {escape_markdown(section.title)}", ""]
        lines += _blocks(section.blocks, image_dir)
    if document.footer:
        lines += ["---", "", f"*{escape_markdown(document.footer)}*", ""]
    files = {str(PurePosixPath(image_dir) / f"{figure.name}.svg"): figure.svg
             for figure in document.figures()}
    return "\n".join(lines).rstrip("\n") + "\n", files
