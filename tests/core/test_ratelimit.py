from hypothesis import given
from hypothesis import strategies as st

from core.ratelimit import hit, parse_rate


@given(count=st.integers(1, 1000), mult=st.integers(1, 60), unit=st.sampled_from(["s", "m", "h", "d"]))
def test_parse_rate_reads_count_and_period(count, mult, unit):
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_rate(f"{count}/{mult}{unit}") == (count, mult * seconds)


def test_hit_allows_up_to_limit_then_refuses():
    results = [hit(scope="t", key="k", rate="3/h") for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert hit(scope="t", key="other", rate="3/h") is True
