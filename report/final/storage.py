"""The final report as a Confluence page: report.html's body in Confluence's storage format.

Storage format is XHTML with Confluence's own elements; Confluence refuses a page that is not
well-formed XML or names an entity XML does not know (`&nbsp;`). So the page is rebuilt, not
copied: only the elements a report uses (headings, paragraphs, lists, tables, links, emphasis,
code, quotes) are kept, every text and attribute is escaped again, and a chart
(`<img src="charts/x.png">`) becomes `<ac:image><ri:attachment ri:filename="x.png"/></ac:image>`,
its PNG uploaded beside the page. Anything else (a script, a style, an inline `data:` image, an
unknown element) is dropped, or unwrapped to its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

_KEPT = frozenset(
    "h1 h2 h3 h4 h5 h6 p ul ol li table thead tbody tfoot tr th td a strong b em i code pre"
    " blockquote del s sub sup".split()
)
_VOID = frozenset({"br", "hr"})
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript"})
_ATTRIBUTES = {"th": ("colspan", "rowspan"), "td": ("colspan", "rowspan")}
_CHART = re.compile(r"charts/([A-Za-z0-9][A-Za-z0-9._-]{0,200}\.png)")
_LINK = re.compile(r"(https?://|mailto:)[^\s\"<>]+", re.I)
# Characters XML 1.0 does not allow, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class StoragePage:
    """A page's body in storage format and the chart files it shows (names under charts/)."""

    body: str
    attachments: tuple[str, ...]


def storage_page(html: str) -> StoragePage:
    """The body of `html` (the final's report.html) as Confluence storage XHTML."""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    return StoragePage(converter.text(), tuple(dict.fromkeys(converter.attachments)))


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value), quote=False)


def _attribute(value: str) -> str:
    return escape(_NOT_XML.sub("", value), quote=True)


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []  # the kept elements not closed yet, outermost first
        self.attachments: list[str] = []
        self.skipping = 0  # inside this many skipped elements

    def text(self) -> str:
        """What was converted, with every element still open closed."""
        return "".join(self.parts + [f"</{tag}>" for tag in reversed(self.open)])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        if self.skipping:
            return
        values = {name: value or "" for name, value in attrs}
        if tag == "img":
            self._image(values)
        elif tag in _VOID:
            self.parts.append(f"<{tag} />")
        elif tag == "a" and not _LINK.fullmatch(values.get("href", "")):
            # A link to a file beside report.html leads nowhere from Confluence: its text stays.
            return
        elif tag in _KEPT:
            self.parts.append(f"<{tag}{self._attributes(tag, values)}>")
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        before = len(self.open)
        self.handle_starttag(tag, attrs)
        if len(self.open) > before:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping or tag not in self.open:
            return
        while self.open:  # close what was left open inside it (well-formed XML)
            inner = self.open.pop()
            self.parts.append(f"</{inner}>")
            if inner == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(_text(data))

    def _attributes(self, tag: str, values: dict[str, str]) -> str:
        kept = [(n, values[n]) for n in _ATTRIBUTES.get(tag, ()) if values.get(n, "").isdigit()]
        if tag == "a":
            kept.append(("href", values["href"]))
        return "".join(f' {name}="{_attribute(value)}"' for name, value in kept)

    def _image(self, values: dict[str, str]) -> None:
        chart = _CHART.fullmatch(values.get("src", ""))
        if chart is None:  # an inline data: image or one from elsewhere: its words only
            alt = values.get("alt", "")
            if alt:
                self.parts.append(_text(alt))
            return
        name = chart[1]
        self.attachments.append(name)
        alt = values.get("alt", "")
        said = f' ac:alt="{_attribute(alt)}"' if alt else ""
        self.parts.append(
            f'<ac:image{said}><ri:attachment ri:filename="{_attribute(name)}" /></ac:image>'
        )
