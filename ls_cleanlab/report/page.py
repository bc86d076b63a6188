"""What every report page shares: the base style sheet, the broken-image check and the shell."""

from __future__ import annotations

import html
from collections.abc import Sequence

#: The page layout, cards and tables; each report appends the rules of its own columns.
BASE_CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:1.2em 1.6em}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.9em}.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.card{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:.6em 1em;min-width:8em}
.card b{display:block;font-size:1.5em}img.chart{max-width:100%;background:#fff;margin:.4em 0}
table{border-collapse:collapse;background:#fff;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #e3e3e3;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
"""
#: The page's only script: a broken inline image shows up as a console error (the browser test
#: reads the console).
CHECK_IMAGES = (
    '<script>window.addEventListener("load",()=>{for(const i of document.images)'
    '{if(!i.naturalWidth)console.error("broken image: "+(i.id||i.alt))}})</script>'
)


def html_page(
    title: str, meta: str, notes: Sequence[str], sections: Sequence[tuple[str, str, str]], css: str
) -> str:
    """A whole report page: ``title`` (escaped), ``meta`` (HTML), ``notes`` (escaped) and the
    ``(key, heading, content)`` sections (headings escaped, content HTML) in order."""

    def e(value: str) -> str:
        return html.escape(value, quote=True)

    body = "\n".join(
        f'<section id="sec-{key}"><h2>{e(heading)}</h2>\n{content}</section>'
        for key, heading, content in sections
    )
    extra = "".join(f'<p class="note">{e(n)}</p>' for n in notes)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{css}</style></head><body><main>"
        f'<h1>{e(title)}</h1><p class="meta">{meta}</p>{extra}\n{body}</main>'
        f"{CHECK_IMAGES}</body></html>\n"
    )
