"""The content of a report as plain data, rendered by :mod:`.html` and :mod:`.markdown`.

Builders (:mod:`.runreport`, :mod:`.sweepreport`, ...) say *what* a report
contains; renderers decide how it looks and escape every string.  Strings held
here are plain text, never markup: a scenario's name such as
``<script>`` stays text in every format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "Block",
    "BulletList",
    "Code",
    "Details",
    "Document",
    "Figure",
    "Inline",
    "Link",
    "Paragraph",
    "Preformatted",
    "Section",
    "Strong",
    "Table",
    "inline_text",
]


@dataclass(frozen=True)
class Link:
    """A hyperlink; renderers show it as text unless the URL is http(s) or mailto."""

    text: str
    url: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Strong:
    text: str


Inline = str | Link | Code | Strong
#: A run of inline pieces (a paragraph's text, a table cell).
Inlines = Sequence[Inline]


def inline_text(content: Inline | Inlines) -> str:
    """The plain text of inline content, links shown by their text."""
    if isinstance(content, str):
        return content
    if isinstance(content, Link | Code | Strong):
        return content.text
    return "".join(inline_text(piece) for piece in content)


@dataclass(frozen=True)
class Paragraph:
    content: Inline | Inlines
    note: bool = False  # a muted remark (method notes, caveats)


@dataclass(frozen=True)
class BulletList:
    items: Sequence[Inline | Inlines]


@dataclass(frozen=True)
class Table:
    """Rows of cells; ``numeric`` lists the columns to right-align."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Inline | Inlines]]
    caption: str = ""
    numeric: frozenset[int] = frozenset()
    kind: str = ""  # a class for renderers and tests: "outcomes", "ledger", ...


@dataclass(frozen=True)
class Figure:
    """A chart as SVG text; ``name`` is a file-name stem, ``alt`` describes it in words."""

    name: str
    svg: str
    caption: str
    alt: str


@dataclass(frozen=True)
class Preformatted:
    text: str
    language: str = ""


@dataclass(frozen=True)
class Details:
    """Content folded away behind a summary line (expanded in Markdown)."""

    summary: str
    blocks: Sequence[Block]


Block = Paragraph | BulletList | Table | Figure | Preformatted | Details


@dataclass(frozen=True)
class Section:
    title: str
    blocks: Sequence[Block]
    anchor: str = ""  # a fixed identifier for links; never taken from user text


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str = ""
    sections: Sequence[Section] = field(default_factory=list)
    footer: str = ""

    def figures(self) -> list[Figure]:
        """Every figure, in reading order."""
        found: list[Figure] = []

        def visit(blocks: Sequence[Block]) -> None:
            for block in blocks:
                if isinstance(block, Figure):
                    found.append(block)
                elif isinstance(block, Details):
                    visit(block.blocks)

        for section in self.sections:
            visit(section.blocks)
        return found
