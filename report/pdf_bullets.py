"""The page's bulleted lists as report.pdf lays them out: each item's bullet written as text."""

from __future__ import annotations

import re

# A list's opening or closing tag, or an item's opening tag with the paragraph it may open.
_LIST_TAG = re.compile(r"<(/?)(ul|ol)\b[^>]*>|<li\b[^>]*>(?:\n<p>)?")
BULLETS = ("\u2022", "\u25e6", "\u25aa")  # disc, circle, square: as lists nest


def with_text_bullets(html: str) -> str:
    """The page with each bulleted item's marker written as text at the start of the item.

    To WeasyPrint the marker of a list item is a box of its own, positioned outside the item
    and laid out apart; as text it joins the item's first line. Items of a numbered list keep
    their markers (they are few). pdf.css hangs the text bullet where the marker was.
    """
    lists: list[str] = []

    def rewrite(tag: re.Match[str]) -> str:
        closing, name = tag.groups()
        if name is None:  # an item, with the paragraph it may open
            if lists[-1:] != ["bullets"]:
                return tag.group(0)
            # A no-break space, as in WeasyPrint's own marker: the bullet never ends a line.
            return tag.group(0) + BULLETS[min(len(lists), len(BULLETS)) - 1] + "\u00a0"
        if closing:
            del lists[-1:]
            return tag.group(0)
        # Markdown's plain <ul>; a list with attributes of its own keeps its own markers.
        lists.append("bullets" if tag.group(0) == "<ul>" else name)
        return '<ul class="pdf-bullets">' if tag.group(0) == "<ul>" else tag.group(0)

    return _LIST_TAG.sub(rewrite, html)
