"""The outcomes chart's legend: no label runs under the next key."""

import re
from datetime import date

from consent.charts import outcomes_svg
from consent.selectors import OUTCOMES


def test_legend_keys_leave_room_for_their_labels():
    svg = outcomes_svg([{"day": date(2026, 11, 1), **dict.fromkeys(OUTCOMES, 1)}])
    texts = re.findall(r'<text x="(\d+)" y="(\d+)" font-size="11">([^<]+)</text>', svg)
    assert len(texts) == len(OUTCOMES)
    for (x, y, label), (next_x, next_y, _next) in zip(texts, texts[1:], strict=False):
        if y == next_y:  # same line: the label (about 6.5 px a character) ends before the next key's box
            assert int(x) + len(label) * 6.5 < int(next_x) - 16, label
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    assert all(int(x) + len(label) * 6.5 <= width for x, _y, label in texts)
