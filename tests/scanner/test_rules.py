"""The scanner's rules on plain observations: no browser, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner import rules
from scanner.rules import ACCEPT_ALL, GPC, NO_CHOICE, REJECT_ALL, Declared

PAGE = "https://www.shop.example.com/"
ORIGINS = {"https://www.shop.example.com"}
PORTAL = {"https://privacy.example.org"}


def cookie(name, domain="www.shop.example.com", lifetime_days=None):
    return {
        "name": name,
        "domain": domain,
        "path": "/",
        "httpOnly": False,
        "secure": True,
        "sameSite": "Lax",
        "lifetime_seconds": None if lifetime_days is None else lifetime_days * 86400,
    }


def observe(**states):
    """One page seen in the given states: each a dict with cookies, storage and requests."""
    return {
        PAGE: {
            "banner_shown": True,
            "states": {s: {"cookies": [], "storage": [], "requests": [], **v} for s, v in states.items()},
        }
    }


def report(pages, declarations=(), necessary_hosts=None):
    return rules.build_report(
        pages=pages,
        declarations=list(declarations),
        first_party_origins=ORIGINS,
        portal_origins=PORTAL,
        necessary_hosts=necessary_hosts,
    )


ORDER = {s: i for i, s in enumerate(("", *rules.STATES))}


def kinds(rep):
    return sorted(
        ((f["kind"], f["subject"], f["state"]) for f in rep["findings"]), key=lambda k: (k[0], k[1], ORDER[k[2]])
    )


PERF = Declared(pk=1, name="_pa_id", is_regex=False, category="performance", provider="Example", duration="13 months")
NECESSARY = Declared(pk=2, name="sessionid", is_regex=False, category="necessary", provider="Us", duration="2 weeks")
ADS = Declared(pk=3, name="^_xa_", is_regex=True, category="targeting", provider="Ads", duration="90 days")


def test_a_performance_cookie_only_after_accept_is_no_finding():
    rep = report(observe(**{ACCEPT_ALL: {"cookies": [cookie("_pa_id", lifetime_days=30)]}}), [PERF])
    assert kinds(rep) == []
    (row,) = rep["cookies"]
    assert row["declared"] and row["category"] == "performance"
    assert not row["set_before_consent"] and not row["set_after_reject"] and row["set_after_accept"]
    assert rep["blocking"] is False


def test_a_declared_tracker_before_consent_is_a_blocking_finding_in_each_state_it_appears():
    states = {s: {"cookies": [cookie("_xa_uid", lifetime_days=10)]} for s in (NO_CHOICE, REJECT_ALL, ACCEPT_ALL, GPC)}
    rep = report(observe(**states), [ADS])
    assert kinds(rep) == [
        ("cookie_before_consent", "_xa_uid", NO_CHOICE),
        ("cookie_before_consent", "_xa_uid", REJECT_ALL),
        ("cookie_before_consent", "_xa_uid", GPC),
    ]
    assert rep["blocking"] is True


def test_an_undeclared_cookie_before_consent_is_undeclared_and_before_consent():
    rep = report(observe(**{NO_CHOICE: {"cookies": [cookie("_pre_tracker")]}}))
    assert kinds(rep) == [
        ("cookie_before_consent", "_pre_tracker", NO_CHOICE),
        ("undeclared_cookie", "_pre_tracker", NO_CHOICE),
    ]
    assert rep["cookies"][0]["declared"] is False and rep["cookies"][0]["category"] is None


def test_necessary_cookies_and_the_banners_own_are_allowed_without_consent():
    rep = report(
        observe(**{NO_CHOICE: {"cookies": [cookie("sessionid")]}, REJECT_ALL: {"cookies": [cookie("pp_consent")]}}),
        [NECESSARY],
    )
    assert kinds(rep) == []


def test_a_declared_cookie_never_seen_may_be_stale():
    rep = report(observe(**{NO_CHOICE: {}}), [NECESSARY, ADS])
    assert kinds(rep) == [("stale_declaration", "^_xa_", ""), ("stale_declaration", "sessionid", "")]


def test_lifetimes_longer_than_declared_and_trackers_over_13_months():
    rep = report(observe(**{ACCEPT_ALL: {"cookies": [cookie("_pa_id", lifetime_days=730)]}}), [PERF])
    assert kinds(rep) == [
        ("lifetime_longer_than_declared", "_pa_id", ACCEPT_ALL),
        ("lifetime_over_13_months", "_pa_id", ACCEPT_ALL),
    ]
    ok = report(observe(**{ACCEPT_ALL: {"cookies": [cookie("_pa_id", lifetime_days=395)]}}), [PERF])
    assert kinds(ok) == []


def test_third_party_requests_before_consent_but_not_the_portal_nor_the_site_itself():
    requests = [
        "https://www.shop.example.com/app.js",
        "https://static.shop.example.com/logo.png",  # the same site
        "https://privacy.example.org/consent/abc/banner.js",  # the portal
        "https://www.google-analytics.com/g/collect?v=2",
        "data:image/png;base64,xyz",
    ]
    rep = report(
        observe(**{NO_CHOICE: {"requests": requests}, ACCEPT_ALL: {"requests": ["https://ads.example.net/x"]}})
    )
    assert kinds(rep) == [("tracker_before_consent", "www.google-analytics.com", NO_CHOICE)]
    assert rep["third_party_hosts_before_consent"] == ["www.google-analytics.com"]
    (ga,) = [h for h in rep["third_party_hosts"] if h["host"] == "www.google-analytics.com"]
    assert ga["provider"] == "Google Analytics"


def test_hosts_the_site_needs_may_be_contacted_before_consent():
    rep = report(
        observe(**{NO_CHOICE: {"requests": ["https://cdn.example.net/lib.js"]}}), necessary_hosts=["example.net"]
    )
    assert kinds(rep) == []


def test_another_port_on_an_ip_address_is_another_party():
    assert not rules.is_first_party_request("http://127.0.0.1:9001/x", first_party_origins={"http://127.0.0.1:9000"})
    assert rules.is_first_party_request("http://127.0.0.1:9000/x", first_party_origins={"http://127.0.0.1:9000"})
    assert rules.is_first_party_request("https://a.shop.co.uk/", first_party_origins={"https://www.shop.co.uk"})
    assert not rules.is_first_party_request("https://other.co.uk/", first_party_origins={"https://www.shop.co.uk"})


def test_undeclared_storage_and_storage_before_consent():
    storage = [{"area": "local", "origin": "https://www.shop.example.com", "key": "cart_tracker"}]
    rep = report(observe(**{NO_CHOICE: {"storage": storage}, ACCEPT_ALL: {"storage": storage}}))
    assert kinds(rep) == [
        ("storage_before_consent", "cart_tracker", NO_CHOICE),
        ("undeclared_storage", "cart_tracker", NO_CHOICE),
    ]


def test_a_page_without_the_banner_is_a_finding():
    pages = observe(**{NO_CHOICE: {}})
    pages[PAGE]["banner_shown"] = False
    assert kinds(report(pages)) == [("banner_not_shown", PAGE, NO_CHOICE)]


def test_well_known_cookies_get_a_proposed_declaration():
    rep = report(observe(**{ACCEPT_ALL: {"cookies": [cookie("_ga"), cookie("_hjSessionUser_123"), cookie("zz_own")]}}))
    proposals = {c["name"]: c["proposal"] for c in rep["cookies"]}
    assert proposals["_ga"]["provider"] == "Google Analytics" and proposals["_ga"]["category"] == "performance"
    assert proposals["_hjSessionUser_123"]["provider"] == "Hotjar"
    assert proposals["zz_own"] is None


def test_findings_new_since_the_previous_scan():
    old = [{"kind": "undeclared_cookie", "subject": "_a", "state": NO_CHOICE}]
    now = [dict(old[0]), {"kind": "undeclared_cookie", "subject": "_b", "state": NO_CHOICE}]
    assert [f["new"] for f in rules.mark_new(now, old)] == [False, True]
    assert [f["new"] for f in rules.mark_new(now, None)] == [True, True]


@pytest.mark.parametrize(
    "text, days",
    [
        ("session", 0),
        ("13 months", 395.72),
        ("1 year", 365.25),
        ("2 weeks", 14),
        ("1 year 6 months", 547.89),
        ("soon", None),
    ],
)
def test_declared_durations_are_read(text, days):
    got = rules.parse_duration(text)
    assert (got is None) if days is None else round(got / 86400, 2) == days


@given(st.integers(min_value=1, max_value=500), st.sampled_from(["day", "days", "week", "weeks", "month", "months"]))
def test_a_longer_declared_duration_is_never_read_as_shorter(n, unit):
    assert rules.parse_duration(f"{n + 1} {unit}") > rules.parse_duration(f"{n} {unit}")
