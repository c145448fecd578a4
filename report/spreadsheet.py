"""CSV files as a spreadsheet opens them: no cell taken for a formula.

Actors, summaries and instance names come from PagerDuty and Prometheus, so anyone who can
name a host or write a note could put `=HYPERLINK(…)` or `+cmd|' /C calc'!A0` in a cell. As
OWASP recommends, a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
gets a leading `'`, which spreadsheets show as text; numbers (-3.5) stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number, signed or not: a spreadsheet reads it as a number, never a formula.
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def inert_cell(value: object) -> object:
    """`value` as a cell no spreadsheet evaluates: text that could start a formula is quoted."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if NUMBER.fullmatch(value):
        return value
    return "'" + value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file's text: the header, then each row with every cell made inert."""
    buffer = io.StringIO()
    write_csv(buffer, header, rows)
    return buffer.getvalue()


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write `csv_text` to `out` row by row: a huge incident's timeline is never one string."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([inert_cell(cell) for cell in row] for row in rows)
