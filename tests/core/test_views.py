import pytest
from django.core.cache import cache

from core.selectors import ORGANISATION_CACHE_KEY, get_organisation
from core.services import update_organisation

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_home_links_to_every_right_and_setting(client):
    html = client.get("/").content.decode()
    for href in ("/privacy/", "/cookies/", "/requests/new/", "/account/email-preferences/", "/accounts/login/"):
        assert f'href="{href}"' in html


def test_home_shows_organisation_contacts_edited_by_staff(client):
    update_organisation(
        organisation=get_organisation(),
        name="Acme Widgets",
        dpo_name="Pat Officer",
        dpo_email="dpo@acme.example.com",
        supervisory_authority_name="Authority of Example",
    )
    cache.delete(ORGANISATION_CACHE_KEY)
    html = client.get("/").content.decode()
    assert "Acme Widgets" in html
    assert "Pat Officer" in html and "dpo@acme.example.com" in html
    assert "Authority of Example" in html


def test_home_sends_strict_content_security_policy(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp


def test_every_page_footer_links_to_data_held_recipients_and_terms(client):
    for url in ("/", "/accounts/login/"):
        html = client.get(url).content.decode()
        footer = html[html.index('<footer class="site-footer">') :]
        for href in ("/privacy/", "/privacy/data/", "/third-parties/", "/privacy/terms/", "/cookies/"):
            assert f'href="{href}"' in footer, (url, href)


def test_staff_edit_organisation_in_admin_and_every_page_shows_it(client, staff_user):
    get_organisation()  # cached before the edit, as on a running site
    client.force_login(staff_user)
    org = get_organisation()
    response = client.post(
        f"/admin/core/organisation/{org.pk}/change/",
        {
            "name": "Acme Widgets",
            "legal_name": "Acme Widgets SRL",
            "postal_address": "1 Example Road",
            "contact_email": "privacy@acme.example.com",
            "dpo_name": "Pat Officer",
            "dpo_email": "dpo@acme.example.com",
            "supervisory_authority_name": "Authority of Example",
            "supervisory_authority_url": "https://authority.example.com/",
            "supervisory_authority_email": "",
        },
    )
    assert response.status_code == 302
    client.logout()
    html = client.get("/privacy/history/").content.decode()
    for text in ("Acme Widgets SRL", "privacy@acme.example.com", "Pat Officer", "Authority of Example"):
        assert text in html


def test_favicon_is_served_for_every_page_including_admin(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert b"<svg" in b"".join(response.streaming_content if response.streaming else [response.content])
