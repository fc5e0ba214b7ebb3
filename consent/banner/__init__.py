"""Builds the banner script: fixed vanilla JS code called with the property's configuration as one JSON value."""

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache

from consent.selectors import get_property_config

try:
    import brotli
except ImportError:  # optional: gzip alone keeps the banner within its budget
    brotli = None

SOURCE = Path(__file__).with_name("banner.js")
SCRIPT_CACHE_PREFIX = "consent:script:v2:"

# Interface texts. Keys: t title, x text, a/r/c the three first-layer buttons, s save, p settings,
# n necessary note, k cookies, m policy link, g Global Privacy Control note, i consent id (quoted to staff as proof).
STRINGS = {
    "en": {
        "t": "Your privacy choices",
        "x": "We use cookies to run this site. With your consent we also use them to remember your settings, measure visits and show relevant ads.",
        "a": "Accept all",
        "r": "Reject all",
        "c": "Customise",
        "s": "Save choices",
        "p": "Cookie settings",
        "n": "always on",
        "k": "Cookies",
        "m": "Cookie policy",
        "g": "Your browser sends a Global Privacy Control signal, so targeting stays off.",
        "i": "Your consent id",
    },
    "fr": {
        "t": "Vos choix de confidentialité",
        "x": "Nous utilisons des cookies pour faire fonctionner ce site. Avec votre accord, nous les utilisons aussi pour retenir vos réglages, mesurer les visites et afficher des publicités pertinentes.",
        "a": "Tout accepter",
        "r": "Tout refuser",
        "c": "Personnaliser",
        "s": "Enregistrer mes choix",
        "p": "Paramètres des cookies",
        "n": "toujours actifs",
        "k": "Cookies",
        "m": "Politique de cookies",
        "g": "Votre navigateur envoie le signal Global Privacy Control : le ciblage reste désactivé.",
        "i": "Votre identifiant de consentement",
    },
    "nl": {
        "t": "Uw privacykeuzes",
        "x": "Wij gebruiken cookies om deze site te laten werken. Met uw toestemming gebruiken we ze ook om uw instellingen te onthouden, bezoeken te meten en relevante advertenties te tonen.",
        "a": "Alles accepteren",
        "r": "Alles weigeren",
        "c": "Aanpassen",
        "s": "Keuzes opslaan",
        "p": "Cookie-instellingen",
        "n": "altijd aan",
        "k": "Cookies",
        "m": "Cookiebeleid",
        "g": "Uw browser stuurt een Global Privacy Control-signaal, dus targeting blijft uit.",
        "i": "Uw toestemmings-ID",
    },
    "de": {
        "t": "Ihre Datenschutzeinstellungen",
        "x": "Wir verwenden Cookies, damit diese Website funktioniert. Mit Ihrer Einwilligung nutzen wir sie auch, um Ihre Einstellungen zu speichern, Besuche zu messen und passende Werbung zu zeigen.",
        "a": "Alle akzeptieren",
        "r": "Alle ablehnen",
        "c": "Anpassen",
        "s": "Auswahl speichern",
        "p": "Cookie-Einstellungen",
        "n": "immer aktiv",
        "k": "Cookies",
        "m": "Cookie-Richtlinie",
        "g": "Ihr Browser sendet ein Global-Privacy-Control-Signal, daher bleibt Targeting aus.",
        "i": "Ihre Einwilligungs-ID",
    },
}


# Characters that must not appear raw in a script's data: `</script>` and `<!--` would end or alter an inline
# copy in HTML, and U+2028/2029 end a string literal in pre-2019 engines. Each is a valid JSON escape too.
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


@dataclass(frozen=True)
class BuiltScript:
    """One property's script: its validator and the bytes for each content coding."""

    etag: str
    body: bytes
    gzip: bytes
    br: bytes | None


@lru_cache(maxsize=1)
def _code() -> str:
    # Drop comment lines and indentation: the source stays readable, the wire copy stays small.
    lines = []
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//") or (stripped.startswith("/*") and stripped.endswith("*/")):
            continue
        lines.append(stripped)
    return "\n".join(lines)


@lru_cache(maxsize=1)
def _styles() -> str:
    # Inlined into the script, so the styles arrive with it: no second request after the script has run.
    path = finders.find("consent/banner.css")
    text = Path(path).read_text(encoding="utf-8") if path else ""
    return re.sub(r"\s*\n\s*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S)).strip()


def to_json(value) -> str:
    """``value`` as one compact JSON text that is safe anywhere in a script or in an HTML page."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_JSON_ESCAPES)


def render_script(config: dict) -> str:
    """The banner script for one property configuration.

    The code is a fixed function expression; the configuration is one JSON value passed to it as its argument,
    so nothing staff type can reach the code.
    """
    langs = list(STRINGS)
    payload = {
        "k": config["key"],
        "r": config["revision"],
        "l": config["lang"] if config["lang"] in STRINGS else "en",
        "a": config["acceptance_days"],
        "f": config["refusal_days"],
        "css": config["css"],
        "y": _styles(),
        "s": STRINGS,
        "c": [
            [
                c["key"],
                {k: v for k, v in (c["name"] or {}).items() if k in langs and v},
                {k: v for k, v in (c["description"] or {}).items() if k in langs and v},
                [d[:4] for d in c["cookies"]],
            ]
            for c in config["categories"]
        ],
    }
    return f"{_code()}({to_json(payload)});\n"


def build_script(config: dict) -> BuiltScript:
    """The script, compressed once per build (gzip, and brotli when installed), not once per request."""
    body = render_script(config).encode()
    digest = hashlib.sha256(body).hexdigest()[:24]
    return BuiltScript(
        etag=digest,
        body=body,
        gzip=gzip.compress(body, compresslevel=9, mtime=0),
        br=brotli.compress(body, quality=11) if brotli else None,
    )


def get_banner_script(key: str) -> BuiltScript | None:
    """The built script for a property, from the shared cache; None for an unknown key."""
    ck = SCRIPT_CACHE_PREFIX + key
    hit = cache.get(ck)
    if isinstance(hit, BuiltScript):
        return hit
    # Skip the per-process memo: a script built from a stale copy would be shared for minutes.
    config = get_property_config(key, fresh=True)
    if config is None:
        return None
    built = build_script(config)
    cache.set(ck, built, settings.CONSENT_BANNER_CACHE_SECONDS)
    return built
