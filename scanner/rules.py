"""The scanner's rules, as pure functions: what a crawl's observations mean against a website's declarations.

The crawler (``scanner.crawler``) records, per page and per consent state, the cookies, storage keys and
requests it saw; ``build_report`` turns them into the report and its findings. Nothing here touches a
browser or the database, so every rule is tested on plain data.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from scanner.models import BLOCKING_KINDS, FindingKind

# The four fresh browser contexts each page is visited in, in this order.
NO_CHOICE, REJECT_ALL, ACCEPT_ALL, GPC = "no_choice", "reject_all", "accept_all", "gpc"
STATES = (NO_CHOICE, REJECT_ALL, ACCEPT_ALL, GPC)
# Without a choice (the banner open, or GPC on) or after "Reject all", only necessary cookies may exist.
WITHOUT_CONSENT = (NO_CHOICE, REJECT_ALL, GPC)
STATE_LABELS = {
    NO_CHOICE: "before any choice (banner open)",
    REJECT_ALL: 'after "Reject all"',
    ACCEPT_ALL: 'after "Accept all"',
    GPC: "with Global Privacy Control on, before any choice",
}
NECESSARY = "necessary"
DAY = 86400
MONTH = 30.44 * DAY
# Trackers should not outlive 13 months (CNIL's guidance on audience measurement and cookie lifetimes).
TRACKER_MAX_SECONDS = 13 * MONTH + DAY
# What the banner itself writes; declared or not, it is the consent mechanism, which is strictly necessary.
BANNER_OWN = (re.compile(r"^pp_consent$"), re.compile(r"^pp_outbox_"))
# Public suffixes of two labels that are common enough to matter for "same site" (no list is shipped).
TWO_LABEL_SUFFIXES = frozenset(
    {"co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "co.nz", "co.jp", "com.br", "co.za", "com.mx"}
)


@dataclass(frozen=True)
class Declared:
    """One of the website's cookie declarations, as the rules need it."""

    pk: int | None
    name: str
    is_regex: bool
    category: str
    provider: str = ""
    duration: str = ""

    def matches(self, name: str) -> bool:
        if not self.is_regex:
            return self.name == name
        try:
            return re.search(self.name, name) is not None  # as the banner matches: RegExp.test
        except re.error:
            return False


# --- pure helpers -----------------------------------------------------------------------------------------


def parse_duration(text: str) -> float | None:
    """Seconds in a declared duration ("13 months", "1 year 6 months", "session"); None when it cannot be read."""
    text = (text or "").strip().lower()
    if not text:
        return None
    if text in {"session", "end of session", "browser session", "until the browser closes"}:
        return 0.0
    units = {"minute": 60, "hour": 3600, "day": DAY, "week": 7 * DAY, "month": MONTH, "year": 365.25 * DAY}
    total, found = 0.0, False
    for number, unit in re.findall(r"(\d+(?:[.,]\d+)?)\s*(minute|hour|day|week|month|year)s?\b", text):
        total += float(number.replace(",", ".")) * units[unit]
        found = True
    return total if found else None


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def host_of(url: str) -> str:
    """host[:port] of a URL, lower case (the port only when not the scheme's default)."""
    origin = origin_of(url)
    return origin.split("://", 1)[1] if origin else ""


def _is_ip_or_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def site_of(host: str) -> str:
    """The registrable part of a host name ("shop.example.co.uk" -> "example.co.uk"); an IP stays as it is."""
    host = host.lower().strip(".")
    if _is_ip_or_local(host):
        return host
    labels = host.split(".")
    keep = 3 if ".".join(labels[-2:]) in TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def is_first_party_request(url: str, *, first_party_origins: set[str]) -> bool:
    """A request to the page's own site: one of its origins, or a host of the same registrable domain.

    On IP addresses and localhost, the origin (port included) decides: another port is another server.
    """
    origin = origin_of(url)
    if not origin:
        return True  # data:, blob:, about: and the like reach no server
    if origin in first_party_origins:
        return True
    host = urlsplit(url).hostname or ""
    if _is_ip_or_local(host):
        return False
    return any(site_of(urlsplit(o).hostname or "") == site_of(host) for o in first_party_origins)


def cookie_party(domain: str, *, page_hosts: set[str]) -> str:
    """ "first" when the cookie belongs to the site of a page it was seen on, else "third"."""
    domain = domain.lstrip(".").lower()
    for host in page_hosts:
        if (
            host == domain
            or host.endswith("." + domain)
            or (not _is_ip_or_local(host) and site_of(host) == site_of(domain))
        ):
            return "first"
    return "third"


def host_is_listed(host: str, listed: list[str]) -> bool:
    """Whether host (host[:port]) is one of the listed hosts or a subdomain of one."""
    bare = host.split(":")[0] if not host.startswith("[") else host
    for item in listed:
        item = item.lower().strip().lstrip(".")
        if item and (host == item or bare == item or bare.endswith("." + item)):
            return True
    return False


@lru_cache(maxsize=1)
def known_cookies() -> list[dict]:
    """The small database of well-known cookies shipped with the project (scanner/known_cookies.json)."""
    return json.loads(Path(__file__).with_name("known_cookies.json").read_text(encoding="utf-8"))["cookies"]


def propose_declaration(name: str, *, domain: str = "") -> dict | None:
    """A proposed declaration (provider, category, purpose, duration) for a cookie or key the database knows."""
    for entry in known_cookies():
        pattern = entry["name"]
        hit = re.search(pattern, name) if entry.get("regex") else pattern == name
        if hit:
            return {
                "name": pattern,
                "is_regex": bool(entry.get("regex")),
                "provider": entry["provider"],
                "category": entry["category"],
                "purpose": entry["purpose"],
                "duration": entry["duration"],
                "party": "third" if entry.get("third_party") else "first",
            }
    return None


def provider_of_host(host: str) -> str:
    """The well-known provider behind a host, from the same database ("" when unknown)."""
    for entry in known_cookies():
        if host_is_listed(host, entry.get("hosts", [])):
            return entry["provider"]
    return ""


def _match(name: str, declarations: list[Declared]) -> Declared | None:
    exact = next((d for d in declarations if not d.is_regex and d.matches(name)), None)
    if exact is not None:
        return exact
    found = next((d for d in declarations if d.is_regex and d.matches(name)), None)
    if found is None and any(p.search(name) for p in BANNER_OWN):
        return Declared(pk=None, name=name, is_regex=False, category=NECESSARY, provider="Privacy Portal banner")
    return found


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / DAY, 1)


# --- the report ---------------------------------------------------------------------------------------------


def build_report(
    *,
    pages: dict[str, dict],
    declarations: list[Declared],
    first_party_origins: set[str],
    portal_origins: set[str],
    necessary_hosts: list[str] | None = None,
) -> dict:
    """The scan's report: cookies, storage keys and third-party hosts per state, and the findings.

    ``pages`` maps each visited URL to what the crawler saw there (see ``scanner.crawler.scan_page``).
    """
    necessary_hosts = necessary_hosts or []
    page_hosts = {urlsplit(u).hostname or "" for u in pages} | {urlsplit(o).hostname or "" for o in first_party_origins}
    findings: list[dict] = []
    cookies: dict[tuple, dict] = {}
    storage: dict[tuple, dict] = {}
    hosts: dict[str, dict] = {}
    errors: list[dict] = []

    def finding(kind, *, subject, page="", state="", detail, evidence="", proposal=None):
        findings.append(
            {
                "kind": str(kind),
                "subject": subject,
                "page": page,
                "state": state,
                "detail": detail,
                "evidence": evidence,
                "blocking": kind in BLOCKING_KINDS,
                "proposal": proposal,
            }
        )

    def before_consent(kind, *, subject, seen: dict, detail, evidence: dict | None = None):
        """One finding per state without consent in which ``subject`` was seen; ``detail(when)`` words it."""
        for state in WITHOUT_CONSENT:
            if state in seen:
                finding(
                    kind,
                    subject=subject,
                    page=seen[state],
                    state=state,
                    detail=detail(STATE_LABELS[state]),
                    evidence=(evidence or {}).get(state, ""),
                )

    for url, seen in pages.items():
        failed = ((seen.get("states") or {}).get(NO_CHOICE) or {}).get("error")
        if failed:
            errors.append({"page": url, "error": failed})
        elif not seen.get("banner_shown", True):
            finding(
                FindingKind.BANNER_NOT_SHOWN,
                subject=url,
                page=url,
                state=NO_CHOICE,
                detail="The portal's banner did not appear on this page, so no choice could be made there.",
            )
        for state in STATES:
            obs = (seen.get("states") or {}).get(state)
            if not obs:
                continue
            for c in obs.get("cookies", []):
                key = (c["name"], c["domain"].lower(), c.get("path") or "/")
                row = cookies.setdefault(
                    key,
                    {
                        "name": c["name"],
                        "domain": c["domain"],
                        "path": c.get("path") or "/",
                        "party": cookie_party(c["domain"], page_hosts=page_hosts),
                        "http_only": bool(c.get("httpOnly")),
                        "secure": bool(c.get("secure")),
                        "same_site": c.get("sameSite") or "",
                        "lifetime_seconds": None,
                        "seen": {},
                        "evidence": {},
                    },
                )
                life = c.get("lifetime_seconds")
                if life is not None and (row["lifetime_seconds"] is None or life > row["lifetime_seconds"]):
                    row["lifetime_seconds"] = life
                row["seen"].setdefault(state, url)
                ev = (obs.get("evidence") or {}).get(c["name"])
                if ev:
                    row["evidence"].setdefault(state, ev)
            for s in obs.get("storage", []):
                key = (s["area"], s["origin"], s["key"])
                row = storage.setdefault(key, {"key": s["key"], "area": s["area"], "origin": s["origin"], "seen": {}})
                row["seen"].setdefault(state, url)
            for r in obs.get("requests", []):
                if origin_of(r) in portal_origins or is_first_party_request(r, first_party_origins=first_party_origins):
                    continue
                host = host_of(r)
                row = hosts.setdefault(host, {"host": host, "seen": {}, "example": {}})
                row["seen"].setdefault(state, url)
                row["example"].setdefault(state, r[:500])

    # Cookies: declared or not, in which category, and whether they appear without consent.
    cookie_rows = []
    for row in cookies.values():
        decl = _match(row["name"], declarations)
        seen = row["seen"]
        first_state = next(s for s in STATES if s in seen)
        proposal = None if decl else propose_declaration(row["name"], domain=row["domain"])
        out = {
            "name": row["name"],
            "domain": row["domain"],
            "path": row["path"],
            "party": row["party"],
            "http_only": row["http_only"],
            "secure": row["secure"],
            "same_site": row["same_site"],
            "lifetime_days": _days(row["lifetime_seconds"]),
            "declared": decl is not None,
            "category": decl.category if decl else None,
            "provider": decl.provider if decl else "",
            "set_before_consent": NO_CHOICE in seen,
            "set_after_reject": REJECT_ALL in seen,
            "set_after_accept": ACCEPT_ALL in seen,
            "set_with_gpc": GPC in seen,
            "states": [s for s in STATES if s in seen],
            "pages": sorted(set(seen.values())),
            "evidence": row["evidence"],
            "proposal": proposal,
        }
        cookie_rows.append(out)
        name = row["name"]
        if decl is None:
            finding(
                FindingKind.UNDECLARED_COOKIE,
                subject=name,
                page=seen[first_state],
                state=first_state,
                detail=f"The cookie {name} (domain {row['domain']}) is set but not declared.",
                evidence=row["evidence"].get(first_state, ""),
                proposal=proposal,
            )
        if decl is None or decl.category != NECESSARY:
            what = "not declared" if decl is None else f"declared as {decl.category}"
            before_consent(
                FindingKind.COOKIE_BEFORE_CONSENT,
                subject=name,
                seen=seen,
                detail=lambda when, name=name, what=what: f"The cookie {name} ({what}) is set {when}.",
                evidence=row["evidence"],
            )
        life = row["lifetime_seconds"]
        if decl is not None and decl.pk is not None and life is not None:
            declared = parse_duration(decl.duration)
            if declared is not None and life > declared * 1.02 + DAY:
                finding(
                    FindingKind.LIFETIME_LONGER_THAN_DECLARED,
                    subject=name,
                    page=seen[first_state],
                    state=first_state,
                    detail=f"The cookie {name} lives {_days(life)} days; its declaration says {decl.duration}.",
                    evidence=row["evidence"].get(first_state, ""),
                )
            if decl.category != NECESSARY and life > TRACKER_MAX_SECONDS:
                finding(
                    FindingKind.LIFETIME_OVER_13_MONTHS,
                    subject=name,
                    page=seen[first_state],
                    state=first_state,
                    detail=f"The cookie {name} ({decl.category}) lives {_days(life)} days, more than 13 months.",
                    evidence=row["evidence"].get(first_state, ""),
                )

    storage_rows = []
    for row in storage.values():
        decl = _match(row["key"], declarations)
        seen = row["seen"]
        first_state = next(s for s in STATES if s in seen)
        area = "localStorage" if row["area"] == "local" else "sessionStorage"
        proposal = None if decl else propose_declaration(row["key"])
        storage_rows.append(
            {
                "key": row["key"],
                "area": area,
                "origin": row["origin"],
                "declared": decl is not None,
                "category": decl.category if decl else None,
                "set_before_consent": NO_CHOICE in seen,
                "set_after_reject": REJECT_ALL in seen,
                "states": [s for s in STATES if s in seen],
                "pages": sorted(set(seen.values())),
                "proposal": proposal,
            }
        )
        if decl is None:
            finding(
                FindingKind.UNDECLARED_STORAGE,
                subject=row["key"],
                page=seen[first_state],
                state=first_state,
                detail=f"The {area} key {row['key']} ({row['origin']}) is written but not declared.",
                proposal=proposal,
            )
        if decl is None or decl.category != NECESSARY:
            what = "not declared" if decl is None else f"declared as {decl.category}"
            key = row["key"]
            before_consent(
                FindingKind.STORAGE_BEFORE_CONSENT,
                subject=key,
                seen=seen,
                detail=lambda when, key=key, area=area, what=what: f"The {area} key {key} ({what}) is written {when}.",
            )

    host_rows = []
    for row in sorted(hosts.values(), key=lambda r: r["host"]):
        allowed = host_is_listed(row["host"], necessary_hosts)
        provider = provider_of_host(row["host"])
        host_rows.append(
            {
                "host": row["host"],
                "provider": provider,
                "necessary": allowed,
                "states": [s for s in STATES if s in row["seen"]],
                "examples": row["example"],
            }
        )
        if allowed:
            continue
        who = f" ({provider})" if provider else ""
        host = row["host"]
        before_consent(
            FindingKind.TRACKER_BEFORE_CONSENT,
            subject=host,
            seen=row["seen"],
            detail=lambda when, host=host, who=who: f"The page contacts {host}{who} {when}.",
            evidence=row["example"],
        )

    seen_names = [r["name"] for r in cookie_rows] + [r["key"] for r in storage_rows]
    for decl in declarations:
        if decl.pk is not None and not any(decl.matches(n) for n in seen_names):
            finding(
                FindingKind.STALE_DECLARATION,
                subject=decl.name,
                detail=f"{decl.name} is declared ({decl.category}) but the scan did not see it in any state: "
                "it may be stale.",
            )

    order = {k: i for i, k in enumerate(STATES)}
    findings.sort(key=lambda f: (not f["blocking"], f["kind"], f["subject"], order.get(f["state"], 9)))
    return {
        "pages": list(pages),
        "states": list(STATES),
        "cookies": sorted(cookie_rows, key=lambda r: (r["name"], r["domain"])),
        "storage": sorted(storage_rows, key=lambda r: (r["key"], r["origin"])),
        "third_party_hosts": host_rows,
        "third_party_hosts_before_consent": [r["host"] for r in host_rows if NO_CHOICE in r["states"]],
        "findings": findings,
        "blocking": any(f["blocking"] for f in findings),
        "pages_not_loaded": errors,
    }


def fingerprint(f: dict) -> tuple[str, str, str]:
    """What makes two scans' findings the same finding: its kind, what it is about, and the state."""
    return (f["kind"], f["subject"], f.get("state") or "")


def mark_new(findings: list[dict], previous: list[dict] | None) -> list[dict]:
    """Flag each finding that the previous scan did not have (all of them when there is no previous scan)."""
    before = {fingerprint(f) for f in previous or []}
    for f in findings:
        f["new"] = previous is None or fingerprint(f) not in before
    return findings
