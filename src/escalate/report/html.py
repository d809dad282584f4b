"""A report as one self-contained HTML file.

Every string from a scenario or a run goes through :func:`html.escape`;
charts are SVG embedded as ``data:`` images, so an SVG can neither run a
script nor clash with another's element ids; links are kept only for
``http``, ``https`` and ``mailto`` URLs.  A Content-Security-Policy forbids
scripts and any fetch beyond the file itself, so the page makes no network
request even if opened from a web server.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape
from urllib.parse import urlsplit

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

__all__ = ["render_html", "safe_url"]

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

STYLE = """
:root { color-scheme: light; --ink: #1b1b1b; --muted: #5b5b5b; --rule: #d9d9d9; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1040px; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 .25rem; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid var(--rule); }
.subtitle, .note, figcaption, caption, footer { color: var(--muted); }
.subtitle { margin: 0 0 1rem; }
nav ol { columns: 2; margin: .5rem 0 0; padding-left: 1.4rem; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1.2rem; font-size: .92rem; }
caption { text-align: left; padding: .2rem 0; font-size: .9rem; caption-side: top; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--rule); }
th { background: #f3f3f3; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1rem 0 1.5rem; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: .9rem; margin-top: .3rem; }
pre { background: #f6f6f6; padding: .75rem; overflow-x: auto; font-size: .85rem; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
details { margin: .5rem 0 1rem; }
summary { cursor: pointer; color: var(--accent); }
.note { font-size: .92rem; }
footer { margin-top: 3rem; font-size: .85rem; border-top: 1px solid var(--rule); padding-top: .5rem; }
"""

_SAFE_SCHEMES = ("http", "https", "mailto")


def safe_url(url: str) -> str | None:
    """Return ``url`` if it is an http(s) or mailto URL, else None (never ``javascript:``)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return url.strip()


def _inline(content: Inline | Inlines) -> str:
    if isinstance(content, str):
        return escape(content)
    if isinstance(content, Link):
        url = safe_url(content.url)
        if url is None:
            return escape(content.text)
        return f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(content.text)}</a>'
    if isinstance(content, Code):
        return f"<code>{escape(content.text)}</code>"
    if isinstance(content, Strong):
        return f"<strong>{escape(content.text)}</strong>"
    return "".join(_inline(piece) for piece in content)


def _table(table: Table) -> str:
    kind = f' class="{escape(table.kind)}"' if table.kind else ""
    lines = [f"<table{kind}>"]
    if table.caption:
        lines.append(f"<caption>{escape(table.caption)}</caption>")
    def align(i: int) -> str:
        return ' class="num"' if i in table.numeric else ""

    header = "".join(f'<th scope="col"{align(i)}>{escape(c)}</th>'
                     for i, c in enumerate(table.columns))
    if any(table.columns):
        lines.append(f"<thead><tr>{header}</tr></thead>")
    lines.append("<tbody>")
    for row in table.rows:
        cells = "".join(f"<td{align(i)}>{_inline(cell)}</td>" for i, cell in enumerate(row))
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.svg.encode("utf-8")).decode("ascii")
    return (f'<figure class="chart" id="figure-{escape(figure.name)}">'
            f'<img src="data:image/svg+xml;base64,{data}" alt="{escape(figure.alt)}">'
            f"<figcaption>{escape(figure.caption)}</figcaption></figure>")


def _blocks(blocks: Sequence[Block]) -> str:
    out = []
    for block in blocks:
        if isinstance(block, Paragraph):
            css = ' class="note"' if block.note else ""
            out.append(f"<p{css}>{_inline(block.content)}</p>")
        elif isinstance(block, BulletList):
            items = "".join(f"<li>{_inline(item)}</li>" for item in block.items)
            out.append(f"<ul>{items}</ul>")
        elif isinstance(block, Table):
            out.append(_table(block))
        elif isinstance(block, Figure):
            out.append(_figure(block))
        elif isinstance(block, Preformatted):
            out.append(f"<pre><code>{escape(block.text)}</code></pre>")
        elif isinstance(block, Details):
            out.append(f"<details><summary>{escape(block.summary)}</summary>"
                       f"{_blocks(block.blocks)}</details>")
    return "\n".join(out)


def render_html(document: Document) -> str:
    """Return the document as a complete, self-contained HTML page."""
    anchors = [section.anchor or f"section-{i + 1}" for i, section in enumerate(document.sections)]
    toc = "".join(f'<li><a href="#{escape(anchor)}">{escape(section.title)}</a></li>'
                  for anchor, section in zip(anchors, document.sections, strict=True))
    body = []
    for anchor, section in zip(anchors, document.sections, strict=True):
        body.append(f'<section id="{escape(anchor)}"><h2>{escape(section.title)}</h2>\n'
                    f"{_blocks(section.blocks)}</section>")
    subtitle = f'<p class="subtitle">{escape(document.subtitle)}</p>' if document.subtitle else ""
    footer = f"<footer>{escape(document.footer)}</footer>" if document.footer else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(document.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{escape(document.title)}</h1>{subtitle}"
        f'<nav aria-label="Contents"><ol>{toc}</ol></nav></header>\n'
        + "\n".join(body) + f"\n{footer}\n</main>\n</body>\n</html>\n"
    )
