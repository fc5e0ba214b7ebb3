import json
import uuid

import pytest

from consent import selectors, services
from consent.models import ConsentRecord, Purpose


@pytest.mark.smoke
def test_banner_js_is_cacheable_and_costs_no_query_once_cached(client, prop, django_assert_num_queries):
    r = client.get(f"/consent/{prop.key}/banner.js")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/javascript")
    assert r["ETag"] and "max-age" in r["Cache-Control"]
    body = r.content.decode()
    assert prop.key in body and "Accept all" in body and "Reject all" in body and "Customise" in body
    assert "style=" not in body  # the portal's CSP forbids style attributes in injected HTML
    with django_assert_num_queries(0):
        again = client.get(f"/consent/{prop.key}/banner.js")
        assert again.content == r.content
        not_modified = client.get(f"/consent/{prop.key}/banner.js", HTTP_IF_NONE_MATCH=r["ETag"])
    assert not_modified.status_code == 304


# Another web process: same settings and shared cache, but a database it can never reach, so any query fails.
OTHER_PROCESS = """
import json, sys
from django.conf import settings
settings.CACHES = json.loads(sys.argv[1])
settings.DATABASES["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/nonexistent/no-database.sqlite3"}
settings.ALLOWED_HOSTS = ["testserver"]
import django
django.setup()
from django.db import connection
from django.test import Client
queries = []
with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
    r = Client().get(sys.argv[2], HTTP_IF_NONE_MATCH=sys.argv[3])
print(json.dumps({"status": r.status_code, "etag": r.get("ETag"), "queries": len(queries)}))
"""


def _conditional_get_in_other_process(caches: dict, url: str, etag: str) -> dict:
    import subprocess
    import sys

    from django.conf import settings as django_settings

    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "privacyportal.settings",
        # With DEBUG off the portal refuses to start without long keys of its own.
        "SECRET_KEY": django_settings.SECRET_KEY,
        "PSEUDONYMISATION_KEY": django_settings.PSEUDONYMISATION_KEY,
        "VAR_DIR": str(django_settings.VAR_DIR),
    }
    out = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, json.dumps(caches), url, etag],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(django_settings.BASE_DIR),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["file", pytest.param("redis", marks=pytest.mark.redis)])
def shared_cache(request, settings, tmp_path):
    if request.param == "file":
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
        }
    else:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": request.getfixturevalue("redis_url"),
                "KEY_PREFIX": uuid.uuid4().hex,
            }
        }
    selectors.forget_local_configs()
    yield settings.CACHES
    selectors.forget_local_configs()


def test_cached_banner_revalidates_with_no_query_in_any_process(client, prop, shared_cache, django_assert_num_queries):
    """Once one web process has built the banner, a page view's revalidation is a 304 with no query, everywhere."""
    url = f"/consent/{prop.key}/banner.js"
    first = client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    selectors.forget_local_configs()  # nothing kept in this process's memory
    with django_assert_num_queries(0):
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and not again.content
    other = _conditional_get_in_other_process(shared_cache, url, etag)
    assert other == {"status": 304, "etag": etag, "queries": 0}


def test_banner_js_changes_after_material_revision(client, prop, django_capture_on_commit_callbacks):
    etag = client.get(f"/consent/{prop.key}/banner.js")["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        services.record_revision(prop=prop, note="New partner")
    r = client.get(f"/consent/{prop.key}/banner.js", HTTP_IF_NONE_MATCH=etag)
    assert r.status_code == 200 and r["ETag"] != etag
    assert '"revision":2' in r.content.decode()


def test_banner_js_unknown_property_is_404(client, db):
    assert client.get("/consent/nope/banner.js").status_code == 404


def test_cookie_declaration_pages(client, portal_property, prop):
    r = client.get("/cookies/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "_pa_id" in html and "data-pp-open" in html
    r = client.get(f"/cookies/{prop.key}/")
    assert r.status_code == 200 and "Shop" in r.content.decode()
    assert client.get("/cookies/nope/").status_code == 404


def test_portal_pages_embed_the_portal_banner(client, portal_property, settings):
    settings.PORTAL_CONSENT_PROPERTY_KEY = ""
    html = client.get("/cookies/").content.decode()
    assert f"/consent/{portal_property.key}/banner.js" in html


def test_third_parties_page_lists_vendors(client, prop):
    from consent.models import Vendor

    Vendor.objects.create(
        name="Example Ads", purpose="Ads", country="Ireland", privacy_policy_url="https://ads.example.com/p"
    )
    html = client.get("/third-parties/").content.decode()
    assert "Example Ads" in html and "Ireland" in html


def test_account_consents_requires_login(client, db):
    r = client.get("/account/consents/")
    assert r.status_code == 302 and "login" in r["Location"]


@pytest.mark.smoke
def test_grant_and_withdraw_are_equally_one_click(client, user_factory, purposes):
    user = user_factory()
    client.force_login(user)
    page = client.get("/account/consents/").content.decode()
    assert page.count('value="grant"') == 3
    r = client.post("/account/consents/", {"purpose": Purpose.MARKETING, "action": "grant"})
    assert r.status_code == 302
    assert selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    page = client.get("/account/consents/").content.decode()
    assert 'value="withdraw"' in page
    client.post("/account/consents/", {"purpose": Purpose.MARKETING, "action": "withdraw"})
    assert not selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    assert len(selectors.list_purpose_history(user=user)) == 2


def test_account_consents_rejects_unknown_purpose(client, user_factory, purposes):
    client.force_login(user_factory())
    r = client.post("/account/consents/", {"purpose": "selling", "action": "grant"})
    assert r.status_code == 200
    from consent.models import PurposeConsent

    assert not PurposeConsent.objects.exists()


def test_email_preferences_toggle_marketing(client, user_factory, purposes):
    user = user_factory()
    client.force_login(user)
    assert "Service e-mails" in client.get("/account/email-preferences/").content.decode()
    client.post("/account/email-preferences/", {"marketing": "on"})
    assert selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    client.post("/account/email-preferences/", {})
    assert not selectors.has_consent(user=user, purpose=Purpose.MARKETING)


def test_one_click_unsubscribe_without_login(client, user_factory, purposes):
    user = user_factory()
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=True)
    url = services.build_unsubscribe_url(user=user).split("127.0.0.1:8000", 1)[-1]
    url = url[url.index("/unsubscribe/") :]
    page = client.get(url)
    assert page.status_code == 200 and "<form" in page.content.decode()
    assert selectors.has_consent(user=user, purpose=Purpose.MARKETING)  # GET alone changes nothing
    r = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    assert not selectors.has_consent(user=user, purpose=Purpose.MARKETING)


def test_forged_unsubscribe_link_is_refused(client, user_factory, purposes):
    user = user_factory()
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=True)
    assert client.post("/unsubscribe/eyJ1IjoxfQ:forged:sig/").status_code == 400
    assert selectors.has_consent(user=user, purpose=Purpose.MARKETING)


def test_marketing_mail_carries_one_click_headers(user_factory, purposes, mailoutbox):
    from core.mail import send_templated_mail

    user = user_factory()
    send_templated_mail(
        to=[user.email],
        template="mail/core/test",
        context={},
        category="marketing",
        list_unsubscribe_url=services.build_unsubscribe_url(user=user),
    )
    headers = mailoutbox[0].extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in headers["List-Unsubscribe"]


# --- admin --------------------------------------------------------------------------------


def test_admin_property_page_shows_snippet_history_and_chart(client, staff_user, prop):
    services.record_consent(property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method="accept_all")
    services.summarise_consent()  # the chart reads the daily figures
    client.force_login(staff_user)
    html = client.get(f"/admin/consent/property/{prop.pk}/change/").content.decode()
    assert f"/consent/{prop.key}/banner.js" in html
    assert "<svg" in html and "Accept all: 1" in html and "Global Privacy Control: 0" in html
    assert "revision history" in html.lower()


def test_admin_material_change_bumps_revision(client, staff_user, prop, categories):
    client.force_login(staff_user)
    data = {
        "name": prop.name,
        "allowed_origins": prop.allowed_origins,
        "default_language": "en",
        "categories": [c.pk for c in categories.values()],
        "refusal_lifetime_days": 183,
        "acceptance_lifetime_days": 365,
        "material_change": "on",
        "change_note": "Added targeting partner",
        "declarations-TOTAL_FORMS": "0",
        "declarations-INITIAL_FORMS": "0",
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
    }
    r = client.post(f"/admin/consent/property/{prop.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    prop.refresh_from_db()
    assert prop.revision == 2
    assert prop.revisions.get(number=2).note == "Added targeting partner"
    assert '"revision":2' in client.get(f"/consent/{prop.key}/banner.js").content.decode()


def test_admin_consent_log_is_read_only_and_exports(client, staff_user, prop):
    cid = uuid.uuid4()
    rec = services.record_consent(property_key=prop.key, consent_id=cid, revision=1, choices={}, method="reject_all")
    services.record_consent(property_key=prop.key, consent_id=cid, revision=1, choices={}, method="accept_all")
    client.force_login(staff_user)
    assert client.post(f"/admin/consent/consentrecord/{rec.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ConsentRecord.objects.count() == 2
    lookup = client.get("/admin/consent/consentrecord/lookup/", {"consent_id": str(cid)})
    assert lookup.status_code == 200 and "Export as CSV" in lookup.content.decode()
    data = json.loads(
        client.get("/admin/consent/consentrecord/lookup/", {"consent_id": str(cid), "format": "json"}).content
    )
    assert [r["method"] for r in data["records"]] == ["reject_all", "accept_all"]
    csv_text = client.get(
        "/admin/consent/consentrecord/lookup/", {"consent_id": str(cid), "format": "csv"}
    ).content.decode()
    assert csv_text.splitlines()[0].startswith("created_at,consent_id") and len(csv_text.splitlines()) == 3


def test_admin_category_form_stores_translations(client, staff_user, categories):
    client.force_login(staff_user)
    cat = categories["features"]
    data = {"key": "features", "order": 1}
    for lang in ("en", "fr", "nl", "de"):
        data[f"name_{lang}"] = f"Features {lang}"
        data[f"description_{lang}"] = f"Description {lang}"
    r = client.post(f"/admin/consent/category/{cat.pk}/change/", data)
    assert r.status_code == 302
    cat.refresh_from_db()
    assert cat.name == {"en": "Features en", "fr": "Features fr", "nl": "Features nl", "de": "Features de"}


def test_admin_revision_add_bumps_and_is_immutable(client, staff_user, prop):
    client.force_login(staff_user)
    r = client.post("/admin/consent/revision/add/", {"property": prop.pk, "material": "on", "note": "New partner"})
    assert r.status_code == 302
    prop.refresh_from_db()
    assert prop.revision == 2
    rev = prop.revisions.get(number=2)
    assert client.post(f"/admin/consent/revision/{rev.pk}/delete/", {"post": "yes"}).status_code == 403


def test_admin_lookup_needs_the_view_permission_on_the_log(client, user_factory, prop):
    from django.contrib.auth.models import Permission

    cid = uuid.uuid4()
    services.record_consent(property_key=prop.key, consent_id=cid, revision=1, choices={}, method="reject_all")
    staff = user_factory(is_staff=True)  # staff, but in no group
    client.force_login(staff)
    for fmt in ("", "json", "csv"):
        r = client.get("/admin/consent/consentrecord/lookup/", {"consent_id": str(cid), "format": fmt})
        assert r.status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_consentrecord"))
    r = client.get("/admin/consent/consentrecord/lookup/", {"consent_id": str(cid), "format": "json"})
    assert r.status_code == 200 and json.loads(r.content)["records"][0]["method"] == "reject_all"


def test_admin_category_keys_cannot_be_renamed(client, staff_user, categories):
    """Websites, GPC and Consent Mode refer to a category by its key; only names and texts are editable."""
    client.force_login(staff_user)
    cat = categories["targeting"]
    page = client.get(f"/admin/consent/category/{cat.pk}/change/").content.decode()
    assert 'name="key"' not in page
    data = {"key": "ads", "order": 3}
    for lang in ("en", "fr", "nl", "de"):
        data[f"name_{lang}"] = f"Ads {lang}"
        data[f"description_{lang}"] = f"Advertising {lang}"
    assert client.post(f"/admin/consent/category/{cat.pk}/change/", data).status_code == 302
    cat.refresh_from_db()
    assert cat.key == "targeting" and cat.name["en"] == "Ads en"


def test_admin_changes_reach_the_banner_once_committed(
    client, staff_user, categories, django_capture_on_commit_callbacks
):
    from consent.services import invalidate_banner_cache

    client.force_login(staff_user)
    data = {"order": 1}
    for lang in ("en", "fr", "nl", "de"):
        data[f"name_{lang}"] = f"Functional {lang}"
        data[f"description_{lang}"] = f"Remembers your settings {lang}"
    with django_capture_on_commit_callbacks() as callbacks:
        r = client.post(f"/admin/consent/category/{categories['features'].pk}/change/", data)
    assert r.status_code == 302
    assert invalidate_banner_cache in callbacks


def test_admin_lookup_rejects_a_non_uuid(client, staff_user, db):
    client.force_login(staff_user)
    r = client.get("/admin/consent/consentrecord/lookup/", {"consent_id": "DROP TABLE"})
    assert r.status_code == 200 and "not a consent id" in r.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/consent/property/add/",
        "/admin/consent/category/add/",
        "/admin/consent/cookiedeclaration/add/",
        "/admin/consent/vendor/add/",
        "/admin/consent/purpose/",
        "/admin/consent/purposeconsent/",
        "/admin/consent/consentrecord/",
        "/admin/consent/revision/",
    ],
)
def test_admin_pages_render(client, staff_user, prop, purposes, url):
    client.force_login(staff_user)
    assert client.get(url).status_code == 200


def test_admin_purpose_page_renders_versions(client, staff_user, purposes):
    client.force_login(staff_user)
    html = client.get(f"/admin/consent/purpose/{purposes['marketing'].pk}/change/").content.decode()
    assert "Marketing e-mails" in html


def test_new_wording_is_shown_and_the_earlier_consent_stays_in_history(client, user_factory, purposes):
    from consent.models import PurposeVersion

    user = user_factory()
    client.force_login(user)
    client.post("/account/consents/", {"purpose": "research", "action": "grant"})
    old = purposes["research"].current_version()
    PurposeVersion.objects.create(
        purpose=purposes["research"], version=2, title="Research and statistics", wording="Now also surveys by post."
    )
    html = client.get("/account/consents/").content.decode()
    section = html[html.index('id="purpose-research"') :]
    section = section[: section.index("</section>")]
    assert "Now also surveys by post." in section and "Wording version 2" in section
    assert "the wording has changed since" in section and "Consent to the new wording" in section
    history = html[html.index("<tbody>") :]
    assert "Version 1" in history and old.wording.splitlines()[0][:40] in history
    client.post("/account/consents/", {"purpose": "research", "action": "grant"})
    html = client.get("/account/consents/").content.decode()
    history = html[html.index("<tbody>") :]
    assert history.count("<tr>") == 2 and "Version 2" in history and "Version 1" in history
    assert "the wording has changed since" not in html


def test_one_click_unsubscribe_from_a_real_marketing_mail_needs_no_cookie_or_csrf(user_factory, purposes, mailoutbox):
    """A mail client POSTs List-Unsubscribe=One-Click to the header's URL: no session, no CSRF token."""
    from django.test import Client

    from consent.models import PurposeConsent, PurposeConsentSource
    from demo.models import NewsletterSubscription
    from demo.services import send_newsletter

    user = user_factory(email="reader@example.com")
    NewsletterSubscription.objects.create(user=user, email=user.email, list_name="product-news")
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=True)
    assert send_newsletter(subject="News", body="Hello") == 1
    headers = mailoutbox[0].extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    path = url[url.index("/unsubscribe/") :]
    mail_client = Client(enforce_csrf_checks=True)
    r = mail_client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    latest = PurposeConsent.objects.filter(user=user).first()
    assert latest.granted is False and latest.source == PurposeConsentSource.UNSUBSCRIBE
    assert send_newsletter(subject="More news", body="Hello again") == 0  # the demo send checks has_consent
    assert len(mailoutbox) == 1


def test_service_mail_is_marked_and_cannot_be_unsubscribed(user_factory, purposes, mailoutbox):
    from core.mail import send_templated_mail

    user = user_factory()
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=False)
    send_templated_mail(to=[user.email], template="mail/core/test", context={}, category="service")
    headers = mailoutbox[0].extra_headers
    assert headers["X-Portal-Mail-Category"] == "service"
    assert "List-Unsubscribe" not in headers and "List-Unsubscribe-Post" not in headers
    with pytest.raises(ValueError):
        send_templated_mail(to=[user.email], template="mail/core/test", context={}, category="marketing")


def test_consent_proof_csv_neutralises_formulas(client, staff_user, prop):
    import csv
    import io

    cid = uuid.uuid4()
    rec = services.record_consent(property_key=prop.key, consent_id=cid, revision=1, choices={}, method="reject_all")
    # Today's intake cleans these fields; older or imported rows may hold anything.
    ConsentRecord.objects.filter(pk=rec.pk).update(
        page_url='=HYPERLINK("https://attacker.example.com","x")', user_agent_family="@cmd"
    )
    client.force_login(staff_user)
    response = client.get("/admin/consent/consentrecord/lookup/", {"consent_id": str(cid), "format": "csv"})
    header, row = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert row[header.index("page_url")] == '\'=HYPERLINK("https://attacker.example.com","x")'
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


@pytest.mark.parametrize("path", ["/cookies/", "/third-parties/"])
def test_texts_the_product_supplies_show_in_the_visitors_language_and_staff_texts_as_typed(
    client, portal_property, path
):
    from consent.models import CookieDeclaration, Vendor

    # A text the catalogues hold (as the demo's declarations and third parties are marked), and one staff typed.
    known, typed = "What data we hold", "Keeps the basket between visits"
    declaration = portal_property.declarations.first()
    CookieDeclaration.objects.filter(pk=declaration.pk).update(provider=known, purpose=typed, duration=known)
    Vendor.objects.create(name="Example Ads", purpose=known, country=typed, privacy_policy_url="")
    html = client.get(path, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Les données que nous détenons" in html and known not in html
    assert typed in html


def test_the_demo_texts_are_marked_for_the_catalogues():
    """The demo's providers, purposes, durations and countries are extracted by makemessages (gettext_noop)."""
    import ast
    from pathlib import Path

    import consent.demo_data

    tree = ast.parse(Path(consent.demo_data.__file__).read_text(encoding="utf-8"))
    marked = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "gettext_noop"
    }
    assert {"This website", "1 year", "Remembers your cookie choice.", "United States", "Ireland"} <= marked
