"""Feedback that says which checks failed and why, without the hidden tests' source,
and that nothing a student wrote can turn against whoever opens it.

nbgrader's generate_feedback shows every executed test cell as it ran, hidden
tests included, with tracebacks that quote their lines. HideHiddenTests removes
the hidden region with nbgrader's own ClearHiddenTests and shortens those
cells' tracebacks to the error's name and message.

The feedback page is opened by the instructor and the student, so what the
student wrote is sanitised with bleach, as nbconvert does for nbviewer
(HTMLExporter.sanitize_html), with a stricter list: no script, no event handler,
no style, no iframe or form, links only to http(s) and mail, and images only
from the page itself (data: URLs, which pasted images become), so opening the
page loads nothing from anywhere. `clean_html` and `markdown2html` replace
nbconvert's filters of those names; SanitizeOutputs drops outputs that could run
code (JavaScript, SVG, widgets). No markdown cell can fail the whole page.
"""
from __future__ import annotations

import base64
import html
from urllib.parse import urlsplit

import bleach
from jinja2 import pass_context
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Any, List, Unicode

HIDDEN_NOTE = "# Hidden tests: their code is not shown. If they failed, the message below says why."

TAGS = sorted({*bleach.ALLOWED_TAGS, "p", "br", "hr", "div", "span", "pre", "code", "kbd", "samp", "sub", "sup",
               "del", "s", "ins", "mark", "small", "h1", "h2", "h3", "h4", "h5", "h6", "img", "dl", "dt", "dd",
               "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "details", "summary"})
LINK_SCHEMES = {"", "http", "https", "mailto"}  # "": a link within the page
IMAGE_SOURCES = tuple(f"data:image/{kind};" for kind in ("png", "jpeg", "gif", "webp", "svg+xml"))
MISSING_IMAGE = base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="24"><text x="4" y="17" font-size="13" '
    b'fill="#777">[pasted image: its data did not reach the grader]</text></svg>').decode()


def allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Whether bleach keeps attribute NAME="VALUE" on TAG: nothing that runs or loads."""
    if name in ("class", "id", "title"):
        return True
    if tag == "a":
        return name == "href" and urlsplit(value.strip()).scheme.lower() in LINK_SCHEMES
    if tag == "img":
        return name in ("alt", "width", "height") or (name == "src" and value.strip().startswith(IMAGE_SOURCES))
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan")
    return tag == "ol" and name == "start"


_cleaner = bleach.Cleaner(tags=TAGS, attributes=allowed_attribute, protocols=["http", "https", "mailto", "data"],
                          strip=False, strip_comments=True)


def clean_html(element) -> str:
    """ELEMENT (a string of HTML) with everything that could run or load escaped."""
    return _cleaner.clean(element.decode() if isinstance(element, bytes) else str(element))


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for executed notebooks: also hide the tracebacks' code."""

    def preprocess_cell(self, cell, resources, cell_index):
        hidden = cell.cell_type == "code" and self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if hidden:
            cell.source = (cell.source.rstrip("\n") + "\n" + HIDDEN_NOTE).lstrip("\n")
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class _Attachments(dict):
    """A cell's attachments, with a note for any name that has no data here."""

    def __contains__(self, name) -> bool:
        return True

    def __getitem__(self, name):
        return super().get(name) or {"image/svg+xml": MISSING_IMAGE}


@pass_context
def markdown2html(context, source: str) -> str:
    """nbconvert's markdown2html (the HTML exporter's), then clean_html: nbgrader's
    feedback template renders markdown cells without sanitising them. A pasted
    image whose data did not reach the grader is shown as a note, and a cell
    nbconvert cannot render as its text, instead of failing the whole page."""
    cell = context.get("cell", {})
    renderer = IPythonRenderer(escape=False, attachments=_Attachments(cell.get("attachments") or {}))
    try:
        rendered = MarkdownWithMath(renderer=renderer).render(source)
    except Exception:  # noqa: BLE001 (whatever the student wrote: the page must still be made)
        rendered = ("<p><em>This cell could not be shown as formatted text; here is what it holds:</em></p>"
                    f"<pre>{html.escape(source)}</pre>")
    return clean_html(rendered)


class SanitizeOutputs(SanitizeHTML):
    """nbconvert's SanitizeHTML for outputs only, with this module's lists: markdown
    cells are sanitised after they are rendered (markdown2html), which keeps their
    markdown intact, and raw cells by the template (HTMLExporter.sanitize_html)."""

    tags = List(Unicode(), default_value=TAGS).tag(config=True)
    attributes = Any(default_value=allowed_attribute).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)
