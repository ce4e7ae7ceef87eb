"""Cells of every file the console hands out (CSV and XLSX): text stays text, whatever a resident typed."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# A cell starting with one of these is a formula to a spreadsheet program (CSV and XLSX alike).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """A cell value a spreadsheet shows as the text it is: a leading apostrophe before anything that would start a
    formula, and no control characters (XLSX cannot hold them). Every export writes its cells through this."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(FORMULA_LEADS) else value


def inert_row(values: Iterable[object]) -> list[object]:
    return [inert(v) for v in values]
