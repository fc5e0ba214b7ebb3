"""Retention periods in policy texts: placeholders show the enforced period; a stated one that differs is flagged."""

import pytest

from policies import promises, selectors
from policies.rendering import render_markdown
from retention.models import RetentionPolicy

CHATS = {
    "name": "chat-transcripts",
    "subject": "Chat transcripts",
    "period": 6,
    "unit": "months",
    "display": "6 months",
}
INVOICES = {"name": "invoices-tax", "subject": "Invoices", "period": 84, "unit": "months", "display": "7 years"}


def test_a_placeholder_is_replaced_by_the_enforced_period_and_an_unknown_one_stays_as_written():
    text = "Chats are kept {{ retention:chat-transcripts }}; drafts {{retention:nothing-such}}."
    assert promises.fill_placeholders(text, periods=[CHATS]) == (
        "Chats are kept 6 months; drafts {{retention:nothing-such}}."
    )


def test_a_placeholder_runs_no_template_code_and_its_text_is_escaped():
    tricky = {**CHATS, "display": "<script>alert(1)</script>"}
    text = "{{ retention:chat-transcripts }} {% load static %} {{ request.user }}"
    filled = promises.fill_placeholders(text, periods=[tricky])
    assert filled.startswith("&lt;script&gt;") and "{% load static %} {{ request.user }}" in filled


def test_a_stated_period_other_than_the_enforced_one_is_found_in_its_sentence():
    text = (
        "# How long\n\nChat transcripts are deleted after 30 days. We answer within 30 days.\n"
        "- Invoices are kept seven years.\n"
        "- Chat transcripts of closed chats: six months."
    )
    [found] = promises.find_mismatches(text, periods=[CHATS, INVOICES])
    assert found.stated == "30 days" and found.enforced == "6 months" and found.subject == "Chat transcripts"
    assert found.sentence == "Chat transcripts are deleted after 30 days."


def test_years_and_months_compare_and_the_title_s_last_word_names_the_subject():
    logs = {"name": "traffic-logs", "subject": "Traffic logs", "period": 90, "unit": "days", "display": "90 days"}
    assert promises.find_mismatches("Invoices: 7 years. Invoices: 84 months.", periods=[INVOICES]) == []
    [found] = promises.find_mismatches("Server logs are deleted after sixty days.", periods=[logs])
    assert found.stated == "sixty days" and found.enforced == "90 days"
    assert promises.find_mismatches("Server logs: {{ retention:traffic-logs }}, not 60 days.", periods=[logs])
    assert promises.find_mismatches("Server logs: {{ retention:traffic-logs }}.", periods=[logs]) == []


@pytest.mark.django_db
def test_the_enforced_periods_come_from_retention_and_render_in_published_text(make_version):
    RetentionPolicy.objects.create(
        name="chat-transcripts", dataset="demo.SupportMessage", period=6, period_unit="months",
        date_field="created_at", action="delete",
    )  # fmt: skip
    html = render_markdown("Chats are kept {{ retention:chat-transcripts }}.")
    assert html == "<p>Chats are kept 6 months.</p>"


@pytest.mark.django_db
def test_only_versions_in_force_or_scheduled_are_listed_as_broken_promises(make_version):
    RetentionPolicy.objects.create(
        name="chat-transcripts", dataset="demo.SupportMessage", period=6, period_unit="months",
        date_field="created_at", action="delete",
    )  # fmt: skip
    make_version("Chat transcripts are kept 2 years.", publish=True)  # superseded below
    current = make_version("Chat transcripts are kept 3 months.", publish=True)
    make_version("Chat transcripts are kept 5 months.")  # a draft promises nothing yet
    [(version, [mismatch])] = selectors.list_broken_promises()
    assert version == current and mismatch.stated == "3 months" and mismatch.enforced == "6 months"
    RetentionPolicy.objects.filter(name="chat-transcripts").update(period=3)
    assert selectors.list_broken_promises() == []


@pytest.mark.django_db
def test_the_version_s_admin_page_says_which_promise_is_not_kept(make_version, staff_user, client):
    RetentionPolicy.objects.create(
        name="chat-transcripts", dataset="demo.SupportMessage", period=6, period_unit="months",
        date_field="created_at", action="delete",
    )  # fmt: skip
    version = make_version("Chat transcripts are kept 3 months.", publish=True)
    client.force_login(staff_user)
    html = client.get(f"/admin/policies/policyversion/{version.pk}/change/").content.decode()
    assert "It says 3 months for Support messages; the retention enforced is 6 months." in html
    assert "demo.SupportMessage" not in html
    RetentionPolicy.objects.filter(name="chat-transcripts").update(period=3)
    html = client.get(f"/admin/policies/policyversion/{version.pk}/change/").content.decode()
    assert "No stated period disagrees with the retention enforced." in html


@pytest.mark.django_db
def test_the_demo_privacy_policy_keeps_its_retention_promises():
    import io

    from policies import demo_data
    from policies.models import DocumentKind
    from retention.policies import sync_policies

    sync_policies()
    demo_data.seed(users=0, stdout=io.StringIO())
    in_force = selectors.get_version_in_force(kind=DocumentKind.PRIVACY)
    html = render_markdown(in_force.body)
    assert "Server logs are deleted after 90 days." in html and "{{" not in html
    assert selectors.list_broken_promises() == []


@pytest.mark.django_db
def test_the_draft_form_says_how_to_write_a_period_that_stays_true(staff_user, client):
    client.force_login(staff_user)
    html = client.get("/admin/policies/policyversion/add/").content.decode()
    assert "Write {{ retention:traffic-logs }} (a retention policy's name)" in html
