from datetime import timedelta

import pytest
from django.utils import timezone

from policies import services
from policies.models import DocumentKind, PolicyAcceptance
from policies.rendering import diff_lines, render_markdown

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_privacy_page_shows_version_in_force_sanitised(client, make_version):
    make_version(
        "# Our policy\n\nWe keep **little**.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))",
        publish=True,
    )
    response = client.get("/privacy/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>little</strong>" in html and "<h2>Our policy</h2>" in html
    assert "<script>alert" not in html and "javascript:" not in html


def test_privacy_page_announces_a_scheduled_version_before_it_takes_effect(client, in_force_v1, make_version):
    effective = timezone.now() + timedelta(days=30)
    upcoming = make_version(
        "# Policy\n\nWe keep your e-mail address and your phone number.\n",
        summary="We start keeping your phone number.",
        is_material=True,
        publish=True,
        effective_at=effective,
    )
    html = client.get("/privacy/").content.decode()
    assert "We keep your e-mail address." in html  # the version in force is still the one shown
    assert "A new version (2) takes effect on" in html and "We start keeping your phone number." in html
    assert f'href="/privacy/history/privacy/v{upcoming.number}/"' in html
    services.activate_due_versions(now=effective + timedelta(minutes=1))
    assert "A new version" not in client.get("/privacy/").content.decode()


def test_other_documents_have_their_own_pages(client, make_version):
    cookies = services.ensure_document(kind=DocumentKind.COOKIES, title="Cookie policy")
    make_version("We set a session cookie.", document=cookies, publish=True)
    assert "We set a session cookie." in client.get("/privacy/cookie-policy/").content.decode()
    response = client.get("/privacy/terms/")
    assert response.status_code == 404 and "not been published yet" in response.content.decode()


def test_unpublished_privacy_policy_is_not_found_and_drafts_stay_private(client, make_version):
    draft = make_version("secret draft wording")
    assert client.get("/privacy/").status_code == 404
    assert client.get(f"/privacy/history/privacy/v{draft.number}/").status_code == 404
    assert "secret draft wording" not in client.get("/privacy/history/").content.decode()


@pytest.mark.smoke
def test_history_lists_versions_with_word_diff(client, make_version):
    v1 = make_version("We keep your e-mail address for 90 days.\n", publish=True)
    v2 = make_version("We keep your e-mail address for 60 days.\n", summary="Shorter retention.", publish=True)
    html = client.get("/privacy/history/").content.decode()
    assert "Version 1" in html and "Version 2" in html and "Shorter retention." in html
    assert "<del>90</del>" in html and "<ins>60</ins>" in html
    old = client.get(v1.get_absolute_url())
    assert old.status_code == 200 and "This is not the version in force" in old.content.decode()
    assert client.get(v2.get_absolute_url()).status_code == 200


def test_history_filter_rejects_unknown_document(client):
    assert client.get("/privacy/history/?document=nonsense").status_code == 404


def test_diff_escapes_markup_and_folds_unchanged_lines():
    old = "\n".join(f"line {i}" for i in range(20)) + "\nkeep <b> old data"
    new = "\n".join(f"line {i}" for i in range(20)) + "\nkeep <b> new data"
    rows = diff_lines(old, new)
    assert rows[0]["kind"] == "skip" and rows[0]["count"] == 18
    changed = rows[-1]["html"]
    assert "&lt;b&gt;" in changed and "<b>" not in changed
    assert changed == "keep &lt;b&gt; <del>old</del><ins>new</ins> data"


def test_render_markdown_keeps_links_safe():
    html = render_markdown('[site](https://example.com) <a href="x" onclick="evil()">y</a> <img src=x onerror=1>')
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer"' in html
    assert "onclick" not in html and "<img" not in html


# --- acceptance of a material change --------------------------------------------------


@pytest.fixture
def material_in_force(in_force_v1, make_version):
    version = make_version("# Policy\n\nWe now share data with partners.\n", is_material=True, summary="Sharing.")
    services.publish_version(version=version, effective_at=timezone.now() + timedelta(hours=1))
    services.activate_due_versions(now=timezone.now() + timedelta(hours=2))
    version.refresh_from_db()
    return version


def test_member_is_sent_to_accept_then_continues(client, user_factory, material_in_force):
    member = user_factory()
    member.date_joined = timezone.now() - timedelta(days=30)
    member.save()
    client.force_login(member)
    response = client.get("/account/")
    assert response.status_code == 302 and response.url == "/privacy/accept/?next=%2Faccount%2F"
    page = client.get(response.url)
    assert "Sharing." in page.content.decode() and "Accept and continue" in page.content.decode()

    # Exempt: the policy itself, logging out, the API.
    assert client.get("/privacy/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 200

    refused = client.post("/privacy/accept/", {"next": "/account/"})
    assert refused.status_code == 200 and "Tick the box" in refused.content.decode()
    assert not PolicyAcceptance.objects.exists()

    accepted = client.post("/privacy/accept/", {"confirm": "on", "next": "/account/"})
    assert accepted.status_code == 302 and accepted.url == "/account/"
    assert PolicyAcceptance.objects.get(user=member).version == material_in_force
    assert client.get("/account/").status_code == 200


def test_accept_ignores_offsite_next(client, user_factory, material_in_force):
    member = user_factory()
    member.date_joined = timezone.now() - timedelta(days=30)
    member.save()
    client.force_login(member)
    response = client.post("/privacy/accept/", {"confirm": "on", "next": "https://evil.example.com/"})
    assert response.url == "/"


def test_newcomer_and_staff_admin_are_not_stopped(client, user_factory, staff_user, material_in_force):
    newcomer = user_factory()
    newcomer.date_joined = material_in_force.effective_at + timedelta(minutes=1)
    newcomer.save()
    client.force_login(newcomer)
    assert client.get("/account/").status_code == 200
    staff_user.date_joined = timezone.now() - timedelta(days=30)
    staff_user.save()
    client.force_login(staff_user)
    assert client.get("/admin/").status_code == 200
    assert client.get("/account/").status_code == 302


def test_anonymous_accept_page_needs_login(client):
    response = client.get("/privacy/accept/")
    assert response.status_code == 302 and "/accounts/login/" in response.url
