"""Staff work in admin: requests entered by staff, links to the registry's fulfilment pages."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from requests_app import services
from requests_app.models import DataRequest, EventKind, RequestStatus

ADD_URL = "/admin/requests_app/datarequest/add/"


def _phone_request(**overrides):
    data = {
        "channel": "phone",
        "received_on": services.today().isoformat(),
        "kind": "access",
        "requester_name": "Pat Caller",
        "requester_email": "pat@example.com",
        "relationship": "customer",
        "jurisdiction": "ccpa",
        "language": "en",
        "details": "Called the helpline.",
    }
    data.update(overrides)
    return data


@pytest.mark.smoke
def test_staff_record_a_phone_request_through_intake(
    client, staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)
    page = client.get(ADD_URL)
    assert page.status_code == 200 and b'name="channel"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD_URL, _phone_request())
    dr = DataRequest.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{dr.pk}/change/")
    assert dr.channel == "phone" and dr.status == RequestStatus.AWAITING_VERIFICATION
    created = dr.events.get(verb=EventKind.CREATED)
    assert created.actor == staff_user
    # The requester gets the same acknowledgement and verification link as from the web form.
    subjects = [m.subject for m in mailoutbox if "pat@example.com" in m.to]
    assert len(subjects) == 2 and all(dr.reference in s for s in subjects)
    # The manner of submission is in the CCPA request log.
    csv_text = client.get("/admin/requests_app/datarequest/export.csv").content.decode()
    assert f"{dr.reference}," in csv_text and ",phone," in csv_text


def test_postal_request_deadline_runs_from_date_received(client, staff_user):
    client.force_login(staff_user)
    received = services.today() - timedelta(days=5)
    client.post(ADD_URL, _phone_request(channel="post", received_on=received.isoformat(), jurisdiction="ccpa"))
    dr = DataRequest.objects.get()
    assert dr.channel == "post"
    assert dr.received_at.astimezone(services.org_tz()).date() == received
    assert dr.due_date == received + timedelta(days=45)


def test_staff_checked_identity_verifies_at_once(client, staff_user, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ADD_URL, _phone_request(identity_verified="on"))
    dr = DataRequest.objects.get()
    assert dr.status == RequestStatus.VERIFIED
    assert dr.events.filter(verb=EventKind.STATUS, new=RequestStatus.VERIFIED, actor=staff_user).exists()
    assert [m.subject for m in mailoutbox if "confirm" in m.subject.lower()] == []


def test_staff_intake_refuses_bad_input(client, staff_user):
    client.force_login(staff_user)
    future = (services.today() + timedelta(days=2)).isoformat()
    response = client.post(ADD_URL, _phone_request(received_on=future, requester_email="not-an-address"))
    assert response.status_code == 200
    assert b"cannot be in the future" in response.content
    assert b"Enter a valid email address" in response.content
    # Only the staff channels are accepted: a web-form entry cannot be faked.
    assert client.post(ADD_URL, _phone_request(channel="web_form")).status_code == 200
    assert not DataRequest.objects.exists()


def test_staff_intake_links_duplicate_instead_of_counting_twice(client, staff_user, verified_request):
    first = verified_request(email="pat@example.com", kind="access")
    client.force_login(staff_user)
    response = client.post(ADD_URL, _phone_request(identity_verified="on"), follow=True)
    assert response.redirect_chain[0][0].endswith(f"/{first.pk}/change/")
    assert "already had an open request of this type" in response.content.decode()
    assert DataRequest.objects.count() == 1
    assert first.events.filter(verb=EventKind.LINKED).exists()
    assert first.messages.get().body == "Called the helpline."


def test_staff_intake_of_unverified_caller_gets_its_own_request(client, staff_user, verified_request):
    first = verified_request(email="pat@example.com", kind="access")
    client.force_login(staff_user)
    response = client.post(ADD_URL, _phone_request(), follow=True)
    new = DataRequest.objects.exclude(pk=first.pk).get()
    assert response.redirect_chain[0][0].endswith(f"/{new.pk}/change/")
    assert new.status == RequestStatus.AWAITING_VERIFICATION
    # Staff are told of the earlier request; the caller's words stay off it until the caller is verified.
    assert f"already has an open request of this type: {first.reference}" in response.content.decode()
    assert not first.messages.exists() and not first.events.filter(verb=EventKind.LINKED).exists()
    response = client.post(f"/admin/requests_app/datarequest/{new.pk}/workflow/verify/", follow=True)
    assert f"{new.reference} repeated the open request {first.reference}" in response.content.decode()
    new.refresh_from_db()
    assert new.merged_into == first and new.status == RequestStatus.WITHDRAWN
    assert first.messages.get().body == "Called the helpline."
    # The request log counts the request once.
    csv_text = client.get("/admin/requests_app/datarequest/export.csv").content.decode()
    assert f"{first.reference}," in csv_text and f"{new.reference}," not in csv_text


def test_support_agent_may_add_but_not_anonymous_or_plain_users(client, user_factory, db):
    agent = user_factory(is_staff=True, email="agent@example.com")
    agent.groups.add(Group.objects.get(name="Support agent"))
    client.force_login(agent)
    assert client.get(ADD_URL).status_code == 200
    client.logout()
    assert client.get(ADD_URL).status_code == 302  # to the admin login
    client.force_login(user_factory(email="plain@example.com"))
    assert client.get(ADD_URL).status_code == 302
    client.force_login(user_factory(is_staff=True, email="nobody@example.com"))  # staff without permissions
    assert client.get(ADD_URL).status_code == 403
    assert not DataRequest.objects.exists()


def test_account_holder_sees_request_entered_by_staff(client, staff_user, user_factory):
    holder = user_factory(email="holder@example.com")
    client.force_login(staff_user)
    client.post(ADD_URL, _phone_request(requester_email="holder@example.com"))
    dr = DataRequest.objects.get()
    assert dr.user == holder
    client.force_login(holder)
    assert dr.reference in client.get("/requests/mine/").content.decode()


def test_received_date_in_the_past_is_kept_by_the_service(make_request):
    received = timezone.now() - timedelta(days=3)
    dr = make_request(received_at=received, channel="post")
    assert abs((dr.received_at - received).total_seconds()) < 1
    future = make_request(received_at=timezone.now() + timedelta(days=3))
    assert future.received_at <= timezone.now()
    assert isinstance(dr.due_date, date)


def _change_page(client, dr) -> str:
    return client.get(f"/admin/requests_app/datarequest/{dr.pk}/change/").content.decode()


@pytest.mark.parametrize(
    "kind, present, absent",
    [
        ("erasure", ["fulfilment:erasure_review"], ["fulfilment:rectify", "fulfilment:start_export"]),
        ("rectification", ["fulfilment:rectify"], ["fulfilment:erasure_review", "fulfilment:start_export"]),
        ("access", ["fulfilment:start_export"], ["fulfilment:erasure_review", "fulfilment:rectify"]),
        ("portability", ["fulfilment:start_export"], ["fulfilment:erasure_review", "fulfilment:rectify"]),
        ("complaint", [], ["fulfilment:erasure_review", "fulfilment:rectify", "fulfilment:start_export"]),
    ],
)
def test_change_view_links_to_the_registry_pages_for_its_kind(
    client, staff_user, verified_request, kind, present, absent
):
    from django.urls import reverse

    dr = verified_request(kind=kind)
    client.force_login(staff_user)
    page = _change_page(client, dr)
    for name in present:
        assert reverse(name, args=[dr.pk]) in page
    for name in absent:
        assert reverse(name, args=[dr.pk]) not in page


def test_export_started_from_admin_shows_its_progress(client, staff_user, verified_request, settings):
    from django.urls import reverse

    from fulfilment.models import DataExport

    settings.CELERY_TASK_ALWAYS_EAGER = True
    dr = verified_request(kind="access")
    client.force_login(staff_user)
    assert f'formaction="{reverse("fulfilment:start_export", args=[dr.pk])}"' in _change_page(client, dr)
    change_url = f"/admin/requests_app/datarequest/{dr.pk}/change/"
    response = client.post(reverse("fulfilment:start_export", args=[dr.pk]), {"next": change_url})
    assert response.status_code == 302 and response["Location"] == change_url
    export = DataExport.objects.get(data_request=dr)
    DataExport.objects.filter(pk=export.pk).update(state="running", rows_done=30, rows_total=120)
    page = _change_page(client, dr)
    assert 'value="25"' in page and "30 / 120" in page
    assert reverse("fulfilment:export_progress", args=[export.pk]) in page
    # While one export is under way, no second one is offered.
    assert reverse("fulfilment:start_export", args=[dr.pk]) not in page


def test_unverified_access_request_offers_no_export(client, staff_user, make_request):
    from django.urls import reverse

    dr = make_request(kind="access")
    client.force_login(staff_user)
    page = _change_page(client, dr)
    assert reverse("fulfilment:start_export", args=[dr.pk]) not in page
    assert "once the requester" in page


def test_request_log_csv_neutralises_formulas(client, staff_user):
    import csv
    import io

    client.force_login(staff_user)
    client.post(ADD_URL, _phone_request())
    # A value written by an import or an older release, not one of today's choices.
    DataRequest.objects.update(channel="=cmd|' /C calc'!A0", denial_reason="@SUM(1+1)*cmd")
    DataRequest.objects.update(status=RequestStatus.DENIED)
    response = client.get("/admin/requests_app/datarequest/export.csv")
    header, row = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert row[header.index("manner_made")] == "'=cmd|' /C calc'!A0"
    assert row[header.index("basis_for_denial")] == "'@SUM(1+1)*cmd"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


CHANGELIST_URL = "/admin/requests_app/datarequest/"
METRICS_URL = "/admin/requests_app/datarequest/metrics/"


def _view_only_staff(user_factory):
    from django.contrib.auth.models import Permission

    auditor = user_factory(is_staff=True, email="auditor@example.com")
    auditor.user_permissions.add(Permission.objects.get(codename="view_datarequest"))
    return auditor


def test_view_only_staff_can_neither_verify_nor_assign_through_bulk_actions(client, user_factory, make_request):
    dr = make_request()
    client.force_login(_view_only_staff(user_factory))
    page = client.get(CHANGELIST_URL).content.decode()
    assert dr.reference in page
    assert 'value="verify_manually"' not in page and 'value="assign_to_me"' not in page
    assert 'value="export_csv"' in page  # reading the log is what view rights are for
    for action in ("verify_manually", "assign_to_me"):
        client.post(CHANGELIST_URL, {"action": action, "_selected_action": [dr.pk]})
    dr.refresh_from_db()
    assert dr.status == RequestStatus.AWAITING_VERIFICATION and dr.verified_at is None and dr.assignee is None
    # Nor are the per-request workflow buttons offered on the read-only page.
    change = client.get(f"{CHANGELIST_URL}{dr.pk}/change/").content.decode()
    assert f"/{dr.pk}/workflow/verify/" not in change
    assert client.post(f"{CHANGELIST_URL}{dr.pk}/workflow/verify/").status_code == 403
    # The metrics are aggregates of what they may read anyway.
    assert client.get(METRICS_URL).status_code == 200


def test_support_agent_may_run_bulk_actions(client, user_factory, make_request):
    agent = user_factory(is_staff=True, email="agent@example.com")
    agent.groups.add(Group.objects.get(name="Support agent"))
    dr = make_request()
    client.force_login(agent)
    page = client.get(CHANGELIST_URL).content.decode()
    assert 'value="verify_manually"' in page and 'value="assign_to_me"' in page
    client.post(CHANGELIST_URL, {"action": "assign_to_me", "_selected_action": [dr.pk]})
    client.post(CHANGELIST_URL, {"action": "verify_manually", "_selected_action": [dr.pk]})
    dr.refresh_from_db()
    assert dr.assignee == agent and dr.status == RequestStatus.VERIFIED


def test_staff_without_request_permissions_see_no_metrics_or_log(client, user_factory, verified_request):
    verified_request()
    client.force_login(user_factory(is_staff=True, email="nogroup@example.com"))
    assert client.get(METRICS_URL).status_code == 403
    assert client.get("/requests/metrics/", follow=True).status_code == 403
    assert client.get("/admin/requests_app/datarequest/export.csv").status_code == 403
    assert client.get(CHANGELIST_URL).status_code == 403


def _extend_offered(client, dr) -> bool:
    return f"/admin/requests_app/datarequest/{dr.pk}/workflow/extend/" in _change_page(client, dr)


def test_extend_is_offered_only_where_the_law_allows_it_now(client, staff_user, make_request):
    client.force_login(staff_user)
    gdpr = make_request(jurisdiction="gdpr", kind="erasure")
    assert _extend_offered(client, gdpr)
    # CCPA gives the opt-out of sale no extension; the page must not offer one the service refuses.
    opt_out = make_request(jurisdiction="ccpa", kind="opt_out")
    assert not _extend_offered(client, opt_out)
    # Past the first period the extension can no longer be taken.
    late = make_request(jurisdiction="gdpr", kind="erasure")
    past = timezone.now() - timedelta(days=3)
    DataRequest.objects.filter(pk=late.pk).update(due_at=past, original_due_at=past)
    assert not _extend_offered(client, late)
    # LGPD has no extension at all.
    assert not _extend_offered(client, make_request(jurisdiction="lgpd", kind="erasure"))


def test_a_closed_request_takes_no_more_messages_even_from_staff(client, staff_user, make_request):
    from requests_app.models import RequestMessage

    dr = make_request()
    services.withdraw_request(data_request=dr, actor="requester")
    client.force_login(staff_user)
    url = f"/admin/requests_app/datarequest/{dr.pk}/workflow/message/"
    response = client.post(url, {"body": "One more thing."}, follow=True)
    assert "This request is closed" in response.content.decode()
    assert not RequestMessage.objects.filter(data_request=dr).exists()


def test_due_filter_of_the_queue(client, staff_user, make_request):
    soon = make_request(email="soon@example.com")
    DataRequest.objects.filter(pk=soon.pk).update(due_at=timezone.now() + timedelta(days=3))
    late = make_request(email="late@example.com")
    DataRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))
    client.force_login(staff_user)
    page = client.get(CHANGELIST_URL, {"due": "5"}).content.decode()
    assert soon.reference in page and late.reference not in page
    page = client.get(CHANGELIST_URL, {"due": "overdue"}).content.decode()
    assert late.reference in page and soon.reference not in page
    # A value typed into the address is no error page.
    response = client.get(CHANGELIST_URL, {"due": "abc"})
    assert response.status_code == 200 and soon.reference not in response.content.decode()


@pytest.mark.django_db
def test_a_request_page_shows_its_language_by_name_and_its_due_date_in_words(client, staff_user, verified_request):
    from django.utils import formats

    data_request = verified_request()
    client.force_login(staff_user)
    page = client.get(f"/admin/requests_app/datarequest/{data_request.pk}/change/").content.decode()
    assert "English" in page
    assert formats.date_format(data_request.due_date, "DATE_FORMAT") in page
    assert data_request.due_date.isoformat() not in page
