"""CSV cells that a spreadsheet will not run as formulas (OWASP "CSV injection").

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula
by Excel, LibreOffice and Google Sheets; prefixing it with a single quote makes it plain text.
Every CSV the portal writes goes through ``writer`` (or ``safe_row``).
"""

import csv
from collections.abc import Iterable
from decimal import Decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a CSV cell: text that would start a formula gets a leading single quote."""
    if value is None:
        return ""
    # Numbers are written as numbers: a negative count is data, not a formula.
    if isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def safe_row(values: Iterable) -> list:
    """One CSV row with every cell neutralised (see ``safe_cell``)."""
    return [safe_cell(v) for v in values]


class SafeWriter:
    """A ``csv.writer`` whose rows are neutralised before they are written."""

    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable]):
        for row in rows:
            self.writerow(row)


def writer(out, **kwargs) -> SafeWriter:
    """Like ``csv.writer(out, **kwargs)``, but no cell can start a spreadsheet formula."""
    return SafeWriter(out, **kwargs)
