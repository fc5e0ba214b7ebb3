"""Builds the banner script: one vanilla JS file with the property's configuration inlined."""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from consent.selectors import get_property_config

SOURCE = Path(__file__).with_name("banner.js")
SCRIPT_CACHE_PREFIX = "consent:script:v1:"

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


@lru_cache(maxsize=1)
def _template() -> str:
    # Drop comment lines and indentation: the source stays readable, the wire copy stays small.
    lines = []
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//") or (stripped.startswith("/*") and stripped.endswith("*/")):
            continue
        lines.append(stripped)
    return "\n".join(lines)


def _compact(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def render_script(config: dict) -> str:
    """The banner script for one property configuration."""
    langs = list(STRINGS)
    payload = {
        "k": config["key"],
        "r": config["revision"],
        "l": config["lang"] if config["lang"] in STRINGS else "en",
        "a": config["acceptance_days"],
        "f": config["refusal_days"],
        "css": config["css"],
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
    return _template().replace("__CONFIG__", _compact(payload)).replace("__STRINGS__", _compact(STRINGS))


def get_banner_script(key: str) -> tuple[str, str] | None:
    """(ETag, script) for a property, from the shared cache; None for an unknown key."""
    ck = SCRIPT_CACHE_PREFIX + key
    hit = cache.get(ck)
    if hit is not None:
        return hit
    # Skip the per-process memo: a script built from a stale copy would be shared for minutes.
    config = get_property_config(key, fresh=True)
    if config is None:
        return None
    body = render_script(config)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:24] + '"'
    cache.set(ck, (etag, body), settings.CONSENT_BANNER_CACHE_SECONDS)
    return etag, body
