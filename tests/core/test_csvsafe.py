"""CSV cells never start a spreadsheet formula; everything else is written as it is."""

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from core import csvsafe

DANGEROUS = st.sampled_from(["=", "+", "-", "@", "\t", "\r"])


@given(head=DANGEROUS, rest=st.text())
def test_cell_starting_a_formula_gets_a_single_quote(head, rest):
    assert csvsafe.safe_cell(head + rest) == "'" + head + rest


@given(text=st.text())
def test_safe_cell_never_starts_a_formula_and_only_adds_the_quote(text):
    cell = csvsafe.safe_cell(text)
    assert not cell.startswith(csvsafe.FORMULA_PREFIXES)
    assert cell in (text, "'" + text)
    assert (cell != text) == text.startswith(csvsafe.FORMULA_PREFIXES)


@given(number=st.integers() | st.floats(allow_nan=False) | st.booleans())
def test_numbers_stay_numbers(number):
    assert csvsafe.safe_cell(number) is number


@given(rows=st.lists(st.lists(st.text() | st.none(), min_size=1, max_size=6), min_size=1, max_size=6))
def test_writer_round_trip_reads_back_no_formula(rows):
    out = io.StringIO(newline="")
    csvsafe.writer(out).writerows(rows)
    back = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(back) == len(rows)
    for row, read in zip(rows, back, strict=True):
        for value, cell in zip(row, read, strict=True):
            assert not cell.startswith(csvsafe.FORMULA_PREFIXES)
            expected = value or ""
            assert cell == ("'" + expected if expected.startswith(csvsafe.FORMULA_PREFIXES) else expected)
