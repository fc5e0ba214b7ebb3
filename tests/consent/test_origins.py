"""The one rule for which browser origins may use a property's consent API."""

from consent.services import origin_allowed

ALLOWED = ["https://www.example.com", "http://localhost:8001"]


def test_allowed_origins_and_the_portals_own_are_accepted():
    own = "https://privacy.example.com"
    assert origin_allowed(origin="https://www.example.com", allowed=ALLOWED, own_origin=own)
    assert origin_allowed(origin="http://localhost:8001", allowed=ALLOWED, own_origin=own)
    assert origin_allowed(origin=own, allowed=[], own_origin=own)


def test_other_origins_are_refused_exactly():
    own = "https://privacy.example.com"
    for origin in ("", "https://example.com", "http://www.example.com", "https://www.example.com.evil.test", "null"):
        assert not origin_allowed(origin=origin, allowed=ALLOWED, own_origin=own), origin
