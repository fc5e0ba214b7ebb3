"""Builds the banner script: fixed vanilla JS code called with the property's configuration as one JSON value."""

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rcssmin
import rjsmin
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import pgettext_lazy

from consent.selectors import get_property_config
from core.languages import BASE_LANGUAGE, language_codes, product_text

try:
    import brotli
except ImportError:  # optional: gzip alone keeps the banner within its budget
    brotli = None

SOURCE = Path(__file__).with_name("banner.js")
SCRIPT_CACHE_PREFIX = "consent:script:v4:"  # v4: cookie details in every language

# The banner's interface texts, translated through the gettext catalogues like the portal's own pages. The
# context keeps each one apart from a portal text with the same English words but another translation.
TEXTS = {
    "title": pgettext_lazy("consent banner", "Your privacy choices"),
    "intro": pgettext_lazy(
        "consent banner",
        "We use cookies to run this site. With your consent we also use them to remember your settings, "
        "measure visits and show relevant ads.",
    ),
    "acceptAll": pgettext_lazy("consent banner", "Accept all"),
    "rejectAll": pgettext_lazy("consent banner", "Reject all"),
    "customise": pgettext_lazy("consent banner", "Customise"),
    "save": pgettext_lazy("consent banner", "Save choices"),
    "settings": pgettext_lazy("consent banner", "Cookie settings"),
    "alwaysOn": pgettext_lazy("consent banner: a category that cannot be turned off", "always on"),
    "cookies": pgettext_lazy("consent banner", "Cookies"),
    "policy": pgettext_lazy("consent banner", "Cookie policy"),
    "gpc": pgettext_lazy(
        "consent banner", "Your browser sends a Global Privacy Control signal, so targeting stays off."
    ),
    # Quoted by a visitor to staff, who find the proof of a choice by it.
    "consentId": pgettext_lazy("consent banner", "Your consent id"),
}


def banner_languages() -> list[str]:
    """The languages the banner speaks: the portal's own."""
    return list(language_codes())


def banner_texts() -> dict[str, dict[str, str]]:
    """Every interface text in every language, so the banner can follow the host page's language in the browser."""
    out = {}
    for lang in banner_languages():
        with translation.override(lang):
            out[lang] = {key: str(value) for key, value in TEXTS.items()}
    return out


def _purpose(declared: list) -> str:
    # A configuration built before cookies carried their purpose (a benchmark's, an older cache entry) has none.
    return declared[5] if len(declared) > 5 else ""


def cookie_words(categories: list[dict]) -> dict[str, dict[str, str]]:
    """The declared cookies' provider, duration and purpose in each language where the catalogues translate them.

    Only texts the product supplies have translations (``product_text``, as on the declaration pages); staff-typed
    texts are sent once, as typed. Each language is looked up explicitly, never in the active one, so the one
    cached script is the same whichever visitor's request built it.
    """
    sources = {text for c in categories for d in c["cookies"] for text in (d[1], d[2], _purpose(d)) if text}
    out = {}
    for lang in banner_languages():
        words = {text: product_text(text, lang) for text in sorted(sources)}
        local_words = {text: local for text, local in words.items() if local != text}
        if local_words:  # a language with nothing to look up costs no bytes
            out[lang] = local_words
    return out


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
    # Minified once per process from the readable source: no build step, and no copy that can drift from it.
    return rjsmin.jsmin(SOURCE.read_text(encoding="utf-8")).strip()


@lru_cache(maxsize=1)
def _styles() -> str:
    # Inlined into the script, so the styles arrive with it: no second request after the script has run.
    path = finders.find("consent/banner.css")
    return rcssmin.cssmin(Path(path).read_text(encoding="utf-8")).strip() if path else ""


def to_json(value) -> str:
    """``value`` as one compact JSON text that is safe anywhere in a script or in an HTML page."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_JSON_ESCAPES)


def render_script(config: dict) -> str:
    """The banner script for one property configuration.

    The code is a fixed function expression; the configuration is one JSON value passed to it as its argument,
    so nothing staff type can reach the code.
    """
    langs = banner_languages()
    payload = {
        "key": config["key"],
        "revision": config["revision"],
        "lang": config["lang"] if config["lang"] in langs else BASE_LANGUAGE,
        "acceptDays": config["acceptance_days"],
        "refuseDays": config["refusal_days"],
        "css": config["css"],
        "styles": _styles(),
        "texts": banner_texts(),
        # Cookie details by language: the English text, as stored, to the visitor's words.
        "words": cookie_words(config["categories"]),
        "categories": [
            {
                "key": c["key"],
                "name": {k: v for k, v in (c["name"] or {}).items() if k in langs and v},
                "description": {k: v for k, v in (c["description"] or {}).items() if k in langs and v},
                # Name, provider, duration, whether the name is a pattern, purpose.
                "cookies": [[*d[:4], _purpose(d)] for d in c["cookies"]],
            }
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


@lru_cache(maxsize=1)
def _release() -> str:
    # The code, styles and interface texts this process serves: a deploy that changes any of them does not
    # take a build another release left in the shared cache (during a rolling deploy both are live).
    parts = (_code(), _styles(), to_json(banner_texts()))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]


def script_cache_key(key: str) -> str:
    return f"{SCRIPT_CACHE_PREFIX}{_release()}:{key}"


def get_banner_script(key: str) -> BuiltScript | None:
    """The built script for a property, from the shared cache; None for an unknown key."""
    ck = script_cache_key(key)
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
