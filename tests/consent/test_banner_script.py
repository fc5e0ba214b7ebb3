"""banner.js as served: valid JavaScript whatever staff type, compressed, cacheable for a bounded window, cookie-free."""

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import brotli
import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from consent.banner import SOURCE, _code, _styles, render_script
from consent.models import Category, CookieDeclaration, Property
from consent.services import invalidate_banner_cache, record_revision

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")

# In node: the served script must compile as a whole, and the part after the fixed code must evaluate
# (as JavaScript, not as JSON) to the configuration the portal meant to send.
NODE_PROGRAM = r"""
const vm = require('vm'), fs = require('fs');
const [script, codeLength] = JSON.parse(fs.readFileSync(0, 'utf8'));
new vm.Script(script);
const value = vm.runInNewContext(script.slice(codeLength));
process.stdout.write(JSON.stringify(value));
"""

# Pieces that broke or could break a script built by text replacement, or an inline copy of it in HTML.
NASTY = [
    "__CONFIG__",
    "__STRINGS__",
    "Statistics __STRINGS__",
    "$&",
    "$1",
    "'",
    '"',
    "`",
    "${x}",
    "\\",
    "\\u2028",
    "</script>",
    "</SCRIPT>",
    "<!--",
    "-->",
    "<script>",
    "\u2028",
    "\u2029",
    "\n",
    "\r",
    "\x00",
    "})();",
    "*/",
    "/*",
]
texts = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=6)), max_size=6).map("".join)
langs = st.dictionaries(st.sampled_from(["en", "fr", "nl", "de"]), texts, max_size=4)


def _config(categories) -> dict:
    return {
        "key": "AbCdEfGhIjKl",
        "revision": 2,
        "lang": "en",
        "acceptance_days": 365,
        "refusal_days": 183,
        "css": "/static/consent/banner.css",
        "categories": categories,
    }


def _payload_in_node(script: str) -> dict:
    out = subprocess.run(
        [NODE, "-e", NODE_PROGRAM], input=json.dumps([script, len(_code())]), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.skipif(NODE is None, reason="needs node to parse the script")
@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cats=st.lists(
        st.tuples(
            st.sampled_from(["necessary", "features", "performance", "targeting"]),
            langs,
            langs,
            st.lists(st.tuples(texts, texts, texts, st.sampled_from([0, 1]), texts), max_size=3),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_staff_text_never_breaks_the_script_and_reaches_it_unchanged(cats):
    categories = [
        {"key": k, "name": n, "description": d, "cookies": [[*c[:4], "first", c[4]] for c in cookies]}
        for k, n, d, cookies in cats
    ]
    script = render_script(_config(categories))
    # The code is the same for every configuration: staff text lands only in the one JSON value after it.
    assert script.startswith(_code() + "(")
    data = script[len(_code()) :]
    for raw in ("</", "<!--", "\u2028", "\u2029"):
        assert raw not in data
    value = _payload_in_node(script)
    assert value == json.loads(data.strip()[1:-2])
    got = [[c["key"], c["cookies"]] for c in value["categories"]]
    assert got == [[c["key"], [[*x[:4], x[5]] for x in c["cookies"]]] for c in categories]
    for got, sent in zip(value["categories"], categories, strict=True):
        assert got["name"] == {k: v for k, v in sent["name"].items() if v}
        assert got["description"] == {k: v for k, v in sent["description"].items() if v}
    assert value["texts"]["en"]["acceptAll"] == "Accept all" and value["revision"] == 2


def test_a_category_named_like_a_placeholder_is_served_as_valid_javascript(client, prop):
    Category.objects.filter(key="performance").update(name={"en": "Statistics __STRINGS__ </script><!-- \u2028"})
    invalidate_banner_cache()
    body = client.get(f"/consent/{prop.key}/banner.js").content.decode()
    if NODE:
        value = _payload_in_node(body)
        names = {c["key"]: c["name"] for c in value["categories"]}
        assert names["performance"]["en"] == "Statistics __STRINGS__ </script><!-- \u2028"


@pytest.mark.parametrize(
    "accept, coding",
    [
        ("gzip, deflate, br", "br"),
        ("br;q=1.0, gzip;q=0.8", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("", None),
    ],
)
def test_banner_js_is_compressed_for_browsers_that_accept_it(client, prop, accept, coding):
    plain = client.get(f"/consent/{prop.key}/banner.js", HTTP_ACCEPT_ENCODING="identity").content
    r = client.get(f"/consent/{prop.key}/banner.js", HTTP_ACCEPT_ENCODING=accept)
    assert r.status_code == 200
    assert r.get("Content-Encoding") == coding
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](r.content)
    assert decoded == plain
    assert r["Vary"] == "Accept-Encoding"
    if coding:
        assert len(r.content) <= 8192 < len(plain)


def test_any_coding_s_validator_revalidates(client, prop):
    url = f"/consent/{prop.key}/banner.js"
    etag = client.get(url, HTTP_ACCEPT_ENCODING="gzip")["ETag"]
    assert client.get(url, HTTP_ACCEPT_ENCODING="br", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_ACCEPT_ENCODING="br")["ETag"] != etag  # one validator per representation


def test_browsers_and_cdns_keep_the_script_for_the_propagation_window(client, prop, settings):
    settings.CONSENT_BANNER_PROPAGATION_SECONDS = 600
    r = client.get(f"/consent/{prop.key}/banner.js", HTTP_ACCEPT_ENCODING="gzip")
    assert r["Cache-Control"] == "public, max-age=600"
    settings.CONSENT_BANNER_PROPAGATION_SECONDS = 90
    assert client.get(f"/consent/{prop.key}/banner.js")["Cache-Control"] == "public, max-age=90"
    assert r["Access-Control-Allow-Origin"] == "*" and r["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_a_new_revision_is_served_as_soon_as_it_is_committed(client, prop, django_capture_on_commit_callbacks):
    before = gzip.decompress(client.get(f"/consent/{prop.key}/banner.js", HTTP_ACCEPT_ENCODING="gzip").content)
    with django_capture_on_commit_callbacks(execute=True):
        record_revision(prop=prop, note="New partner")
    after = gzip.decompress(client.get(f"/consent/{prop.key}/banner.js", HTTP_ACCEPT_ENCODING="gzip").content)
    assert b'"revision":1,' in before and b'"revision":2,' in after


def test_a_deploy_serves_its_own_banner_code_not_a_build_an_older_release_cached(client, prop, monkeypatch):
    import consent.banner as banner

    # An older release's process put its build in the shared cache (a rolling deploy runs both for a while).
    monkeypatch.setattr(banner, "_release", lambda: "older")
    stale = b"/* the older release's banner */"
    cache.set(banner.script_cache_key(prop.key), banner.BuiltScript("stale", stale, gzip.compress(stale), None), 300)
    assert client.get(f"/consent/{prop.key}/banner.js").content == stale
    monkeypatch.undo()
    body = client.get(f"/consent/{prop.key}/banner.js").content
    assert body.startswith(_code().encode()) and stale not in body


def test_banner_responses_carry_no_cookie_and_vary_only_on_encoding(client, prop, staff_user, settings):
    # A logged-in staff member on the portal's own pages sends session and CSRF cookies with the request.
    client.force_login(staff_user)
    client.cookies["csrftoken"] = "x" * 32
    for url in (f"/consent/{prop.key}/banner.js", "/consent/unknown-key/banner.js"):
        session = client.session
        session["touched"] = url  # a session write would normally answer with Set-Cookie
        session.save()
        r = client.get(url, HTTP_ACCEPT_ENCODING="gzip, br", HTTP_ACCEPT_LANGUAGE="fr")
        assert not r.cookies and "Set-Cookie" not in r.headers
        assert r.get("Vary") in ("Accept-Encoding", None)
        assert "Content-Language" not in r.headers


def test_banner_responses_leave_out_headers_that_only_govern_pages(client, prop):
    # Sent with every page view of every website: a page's policy headers do nothing on a script and cost
    # bytes each time. The script-relevant ones stay.
    for url in (f"/consent/{prop.key}/banner.js", "/consent/unknown-key/banner.js"):
        r = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert "Content-Security-Policy" not in r.headers and "X-Frame-Options" not in r.headers
        assert r["X-Content-Type-Options"] == "nosniff" and r["Content-Type"].startswith("application/javascript")
    # The portal's own pages keep them.
    page = client.get(f"/cookies/{prop.key}/")
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers and page["X-Frame-Options"] == "DENY"


def test_static_banner_css_is_compressed_after_collectstatic_with_debug_off(tmp_path):
    """The production set-up: DEBUG off, collectstatic run, whitenoise serving the compressed copies."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "k" * 10 + "f8Zq2nR7vLx0pW4sT9yB3mC6hJ1dG5aE8uK2oI7rN4tY0wS3xV6zQ9",
        "PSEUDONYMISATION_KEY": "p" * 10 + "a1S4dF7gH0jK3lZ6xC9vB2nM5qW8eR1tY4uI7oP0aS3dF6gH9jK",
        "STATIC_ROOT": str(tmp_path / "static"),
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    probe = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "import json\n"
        "out = {}\n"
        "for ae in ('gzip, deflate, br', 'gzip'):\n"
        "    r = Client().get('/static/consent/banner.css', HTTP_ACCEPT_ENCODING=ae)\n"
        "    out[ae] = [r.status_code, r.get('Content-Encoding'), r.get('Vary')]\n"
        "print(json.dumps(out))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "privacyportal.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["gzip, deflate, br"] == [200, "br", "Accept-Encoding"]
    assert got["gzip"] == [200, "gzip", "Accept-Encoding"]


def test_the_website_admin_page_says_how_soon_changes_reach_visitors(admin_client, prop, settings):
    url = f"/admin/consent/property/{prop.pk}/change/"
    assert "reaches every visitor within 10 minutes" in admin_client.get(url).content.decode()
    settings.CONSENT_BANNER_PROPAGATION_SECONDS = 90
    assert "reaches every visitor within 90 seconds" in admin_client.get(url).content.decode()


def _served_config(client, prop) -> dict:
    body = client.get(f"/consent/{prop.key}/banner.js").content.decode()
    code = _code()
    assert body.startswith(code + "(")
    return json.loads(body[len(code) + 1 : -3])


def test_banner_texts_come_translated_from_the_catalogues(client, prop):
    texts = _served_config(client, prop)["texts"]
    assert set(texts) == {"en", "fr", "nl", "de"}
    assert texts["en"]["acceptAll"] == "Accept all"
    assert texts["fr"]["acceptAll"] == "Tout accepter"
    assert texts["de"]["rejectAll"] == "Alle ablehnen"
    assert texts["nl"]["alwaysOn"] == "altijd aan"
    # Every text is translated: a catalogue entry missing for a language would show English there.
    for lang in ("fr", "nl", "de"):
        assert [k for k in texts["en"] if texts[lang][k] == texts["en"][k] and k != "cookies"] == []


def test_served_code_is_the_minified_source(client, prop):
    source = SOURCE.read_text(encoding="utf-8")
    code = _code()
    assert len(code) < len(source) * 0.8
    # No comments and no indentation reach the wire; the readable names of the source remain.
    assert "/*" not in code and "// " not in code and "\n  " not in code
    assert "deleteCookies" in code and "privacyportal:consent" in code
    assert "\n" not in _styles() and "/*" not in _styles()


@pytest.mark.skipif(NODE is None, reason="needs node to parse the script")
def test_served_script_compiles(client, prop):
    body = client.get(f"/consent/{prop.key}/banner.js").content.decode()
    out = subprocess.run(
        [NODE, "-e", "new (require('vm').Script)(require('fs').readFileSync(0, 'utf8'))"],
        input=body,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


def test_banner_cookie_details_come_in_every_language(client, categories):
    # The demo's declarations are texts the product supplies: /cookies/ shows them translated, and so does the banner.
    prop = Property.objects.create(name="Shop", allowed_origins="https://www.shop.example.com")
    prop.categories.set(categories.values())
    CookieDeclaration.objects.create(
        property=prop,
        category=categories["performance"],
        name="_pa_id",
        provider="This website",
        purpose="Distinguishes visitors for visit statistics.",
        duration="13 months",
    )
    CookieDeclaration.objects.create(
        property=prop,
        category=categories["performance"],
        name="_own",
        provider="Shop analytics team",
        purpose="Counts visits to the shop.",
        duration="13 months",
    )
    invalidate_banner_cache()
    config = _served_config(client, prop)
    performance = next(c for c in config["categories"] if c["key"] == "performance")
    assert sorted(performance["cookies"]) == [
        ["_own", "Shop analytics team", "13 months", 0, "Counts visits to the shop."],
        ["_pa_id", "This website", "13 months", 0, "Distinguishes visitors for visit statistics."],
    ]
    fr = config["words"]["fr"]
    assert fr["13 months"] == "13 mois"
    assert fr["This website"] == "Ce site web"
    assert (
        fr["Distinguishes visitors for visit statistics."] == "Distingue les visiteurs pour les statistiques de visite."
    )
    assert config["words"]["de"]["13 months"] == "13 Monate"
    assert config["words"]["nl"]["This website"] == "Deze website"
    # Texts staff typed have no translation: they are sent once, as typed, and shown so in every language.
    for lang in ("fr", "nl", "de"):
        assert "Shop analytics team" not in config["words"][lang]
        assert "Counts visits to the shop." not in config["words"][lang]
    assert "en" not in config["words"]  # English has nothing to look up: it costs no bytes


def test_the_cached_script_is_the_same_whichever_language_built_it(client, categories):
    prop = Property.objects.create(name="Shop", allowed_origins="https://www.shop.example.com")
    prop.categories.set(categories.values())
    CookieDeclaration.objects.create(
        property=prop,
        category=categories["features"],
        name="lang",
        provider="This website",
        purpose="Remembers your language.",
        duration="1 year",
    )
    url = f"/consent/{prop.key}/banner.js"
    built = {}
    for visitor in ("fr", "de", "en"):
        # Each build starts from nothing, in a request whose active language is the visitor's.
        invalidate_banner_cache()
        r = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_ACCEPT_LANGUAGE=visitor)
        assert r.status_code == 200
        assert r["Vary"] == "Accept-Encoding" and "Content-Language" not in r.headers and not r.cookies
        built[visitor] = (r["ETag"], gzip.decompress(r.content))
    assert built["fr"] == built["de"] == built["en"]
    body = built["fr"][1].decode()
    assert '"1 year":"1 an"' in body and '"Remembers your language.":"Mémorise votre langue."' in body
    assert '"1 year":"1 Jahr"' in body
    # The validator follows the bytes: a declaration changed in any language's words is a new build.
    CookieDeclaration.objects.filter(name="lang").update(duration="30 days")
    invalidate_banner_cache()
    r = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_ACCEPT_LANGUAGE="fr")
    assert r["ETag"] != built["fr"][0]
    assert '"30 days":"30 jours"' in gzip.decompress(r.content).decode()
    assert client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=built["fr"][0]).status_code == 200
