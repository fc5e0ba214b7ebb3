import re
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from requests_app import services
from requests_app.models import DataRequest, RequestStatus

S = RequestStatus
NEW = "/requests/new/"


def form_data(**overrides):
    data = {
        "kind": "access",
        "requester_name": "Robin Example",
        "requester_email": "robin@example.com",
        "relationship": "customer",
        "jurisdiction": "gdpr",
        "details": "Please send me my data.",
        "website": "",
    }
    data.update(overrides)
    return data


def login_recent(client, user):
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "email": user.email}]
    session.save()


@pytest.mark.smoke
def test_intake_page_has_one_form_with_labels_and_choices(client, db):
    html = client.get(NEW).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert main.count("<form") == 1  # the header's language switcher is the page's only other form
    assert html.count("<form") == 2 and 'action="/i18n/setlang/"' in html
    assert 'type="email"' in html
    for value in ("access", "portability", "erasure", "opt_out", "complaint"):
        assert f'value="{value}"' in html
    assert "European Union / EEA (GDPR)" in html and "Brazil (LGPD)" in html and "Elsewhere" in html
    for name in ("kind", "requester_name", "requester_email", "relationship", "jurisdiction", "details", "attachment"):
        assert f'for="id_{name}"' in html
    assert 'class="hp-field"' in html and 'name="website"' in html


@pytest.mark.smoke
def test_anonymous_intake_confirms_with_reference(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, form_data())
    assert response.status_code == 302 and response.url == reverse("requests_app:submitted")
    dr = DataRequest.objects.get()
    assert dr.status == S.AWAITING_VERIFICATION and dr.user is None
    page = client.get(response.url).content.decode()
    assert dr.reference in page
    subjects = [m.subject for m in mail.outbox]
    assert any(dr.reference in s for s in subjects) and len(mail.outbox) == 2
    verification = next(m for m in mail.outbox if "confirm" in m.subject.lower())
    link = re.search(r"http\S+/requests/verify/\S+/", verification.body).group(0)
    path = link.split("127.0.0.1:8000")[-1] if "127.0.0.1:8000" in link else link
    page = client.get(path)
    assert b"Confirm" in page.content
    dr.refresh_from_db()
    assert dr.status == S.AWAITING_VERIFICATION
    page = client.post(path, {"action": "confirm"})
    assert b"verified" in page.content
    dr.refresh_from_db()
    assert dr.status == S.VERIFIED


def test_logged_in_recent_user_is_verified_at_once(client, user_factory):
    user = user_factory(email="owner@example.com", first_name="Olive", last_name="Owner")
    login_recent(client, user)
    page = client.get(NEW).content.decode()
    assert 'value="owner@example.com"' in page and 'value="Olive Owner"' in page
    response = client.post(NEW, form_data(requester_email="owner@example.com"))
    dr = DataRequest.objects.get()
    assert response.status_code == 302 and response.url == f"/requests/{dr.reference}/"
    assert dr.status == S.VERIFIED and dr.user == user
    assert "fulfilment" not in ""  # the panel tag is included; its output belongs to the registry
    assert client.get(response.url).status_code == 200


def test_logged_in_without_recent_auth_must_verify_by_mail(client, user_factory):
    user = user_factory(email="stale@example.com")
    client.force_login(user)
    client.post(NEW, form_data(requester_email="stale@example.com"))
    assert DataRequest.objects.get().status == S.AWAITING_VERIFICATION


def test_honeypot_drops_submission(client, db):
    response = client.post(NEW, form_data(website="http://spam.example.com"))
    assert response.status_code == 302
    assert DataRequest.objects.count() == 0


def test_rate_limit_per_email(client, db, settings):
    settings.DSR_INTAKE_RATE_LIMIT_EMAIL = "2/h"
    kinds = ["access", "erasure", "rectification"]
    codes = [client.post(NEW, form_data(kind=k)).status_code for k in kinds]
    assert codes == [302, 302, 429]
    assert DataRequest.objects.count() == 2


def test_rate_limit_per_ip(client, db, settings):
    settings.DSR_INTAKE_RATE_LIMIT_IP = "2/h"
    codes = [client.post(NEW, form_data(requester_email=f"p{i}@example.com")).status_code for i in range(3)]
    assert codes == [302, 302, 429]


def test_oversized_attachment_is_refused(client, db, settings):
    settings.DSR_ATTACHMENT_MAX_BYTES = 1000
    big = SimpleUploadedFile("id.pdf", b"%PDF-1.4" + b"0" * 2000, content_type="application/pdf")
    response = client.post(NEW, {**form_data(), "attachment": big})
    assert response.status_code == 200 and b"too large" in response.content
    assert DataRequest.objects.count() == 0


def test_attachment_of_wrong_type_is_refused(client, db):
    exe = SimpleUploadedFile("id.pdf", b"MZ\x90\x00binary", content_type="application/pdf")
    response = client.post(NEW, {**form_data(), "attachment": exe})
    assert b"not accepted" in response.content and DataRequest.objects.count() == 0


def test_valid_attachment_is_stored_privately(client, db, settings):
    pdf = SimpleUploadedFile("letter.pdf", b"%PDF-1.4 hello", content_type="application/pdf")
    client.post(NEW, {**form_data(), "attachment": pdf})
    f = DataRequest.objects.get().files.get()
    assert f.purpose == "attachment" and f.file.path.startswith(str(settings.PRIVATE_ROOT))


def test_secret_status_link_shows_request_and_accepts_messages(client, make_request):
    dr = make_request()
    url = services.status_url(dr).split("127.0.0.1:8000")[-1]
    page = client.get(url)
    assert page.status_code == 200 and dr.reference.encode() in page.content
    client.post(url, {"action": "message", "body": "Any news?"})
    assert dr.messages.get().body == "Any news?"
    assert client.get(url[:-5] + "xxxx/").status_code == 404


def test_rotating_nonce_revokes_status_link(client, make_request):
    dr = make_request()
    url = services.status_url(dr).split("127.0.0.1:8000")[-1]
    DataRequest.objects.filter(pk=dr.pk).update(status_nonce="rotated")
    assert client.get(url).status_code == 404


def test_withdraw_from_status_page(client, make_request):
    dr = make_request()
    url = services.status_url(dr).split("127.0.0.1:8000")[-1]
    client.post(url, {"action": "withdraw"})
    dr.refresh_from_db()
    assert dr.status == S.WITHDRAWN


def test_mail_scanner_opening_the_link_changes_nothing(client, make_request, settings):
    from requests_app.models import VerificationToken

    settings.DSR_VERIFICATION_MAX_ATTEMPTS = 2
    dr = make_request(kind="restriction")
    token = services.issue_verification_token(data_request=dr)
    url = reverse("requests_app:verify", kwargs={"token": token})
    events = dr.events.count()
    # What a mail scanner does: HEAD, then GET twice, without cookies and without pressing anything.
    head = client.head(url)
    assert head.status_code == 200 and head["Cache-Control"] == "private, no-store"
    for _ in range(2):
        page = client.get(url)
        assert page.status_code == 200 and b'value="confirm"' in page.content and b">Confirm</button>" in page.content
        assert b"csrfmiddlewaretoken" in page.content
    # Wrong guesses opened at the link's selector use no attempt either: only a POST counts.
    selector = token.split(".")[0]
    for _ in range(3):
        assert client.get(reverse("requests_app:verify", kwargs={"token": f"{selector}.wrong"})).status_code == 400
    dr.refresh_from_db()
    row = VerificationToken.objects.get()
    assert dr.status == S.AWAITING_VERIFICATION and dr.verified_at is None
    assert row.used_at is None and row.attempts == 0 and dr.events.count() == events
    # The person presses Confirm: verified once; opening the link again says "already verified".
    first = client.post(url, {"action": "confirm"})
    assert first.status_code == 200 and b"is confirmed and verified" in first.content
    again = client.get(url)
    assert again.status_code == 200 and b"already verified" in again.content
    assert reverse("requests_app:status", kwargs={"token": services.make_status_token(dr)}) in again.content.decode()
    dr.refresh_from_db()
    assert dr.status == S.VERIFIED and dr.events.filter(verb="status", new=S.VERIFIED).count() == 1
    assert VerificationToken.objects.get().used_at is not None


def test_confirming_needs_the_csrf_token(db, make_request):
    from django.test import Client

    dr = make_request()
    url = reverse("requests_app:verify", kwargs={"token": services.issue_verification_token(data_request=dr)})
    assert Client(enforce_csrf_checks=True).post(url, {"action": "confirm"}).status_code == 403
    dr.refresh_from_db()
    assert dr.status == S.AWAITING_VERIFICATION


def test_wrong_verifier_posted_uses_attempts_until_locked(client, make_request, settings):
    settings.DSR_VERIFICATION_MAX_ATTEMPTS = 2
    dr = make_request()
    token = services.issue_verification_token(data_request=dr)
    wrong = reverse("requests_app:verify", kwargs={"token": token.split(".")[0] + ".wrong"})
    assert [client.post(wrong, {"action": "confirm"}).status_code for _ in range(2)] == [400, 400]
    locked = client.get(reverse("requests_app:verify", kwargs={"token": token}))
    assert locked.status_code == 400 and b"too many times" in locked.content


def test_verify_page_with_bad_token(client, db):
    response = client.get("/requests/verify/abc.def/")
    assert response.status_code == 400


def test_mine_lists_only_own_requests(client, user_factory):
    alice, bob = user_factory(), user_factory()
    a = services.create_verified_request(user=alice, kind="access")
    b = services.create_verified_request(user=bob, kind="access")
    client.force_login(alice)
    page = client.get("/requests/mine/").content.decode()
    assert a.reference in page and b.reference not in page


def test_metrics_and_csv_staff_only(client, staff_user, user_factory, verified_request):
    dr = services.complete_request(data_request=verified_request(), actor=staff_user, summary="Done")
    client.force_login(user_factory())
    assert client.get("/requests/metrics/").status_code == 302
    assert client.get("/admin/requests_app/datarequest/metrics/").status_code == 302
    client.force_login(staff_user)
    page = client.get("/admin/requests_app/datarequest/metrics/").content.decode()
    assert "<svg" in page and "§7102" in page and "Requests to know" in page
    csv_text = client.get("/admin/requests_app/datarequest/export.csv").content.decode()
    header, row = csv_text.splitlines()[:2]
    assert "date_of_request" in header and "basis_for_denial" in header and "manner_made" in header
    assert dr.reference in row and "complied" in row


def test_admin_queue_badges_filters_and_workflow(client, staff_user, make_request, django_capture_on_commit_callbacks):
    dr = make_request(jurisdiction="lgpd")
    DataRequest.objects.filter(pk=dr.pk).update(due_at=timezone.now() + timedelta(days=3))
    client.force_login(staff_user)
    page = client.get("/admin/requests_app/datarequest/?due=5").content.decode()
    assert dr.reference in page and "dsr-due-soon" in page
    assert dr.reference not in client.get("/admin/requests_app/datarequest/?due=overdue").content.decode()
    assert dr.reference in client.get(f"/admin/requests_app/datarequest/?q={dr.requester_email}").content.decode()
    base = f"/admin/requests_app/datarequest/{dr.pk}/workflow/"
    client.post(base + "verify/")
    client.post(base + "request_info/", {"message": "Which account do you mean?"})
    dr.refresh_from_db()
    assert dr.status == S.AWAITING_REQUESTER
    client.post(base + "start/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(base + "deny/", {"reason": "not_our_data", "requester_text": "No records found."})
    dr.refresh_from_db()
    assert dr.status == S.DENIED
    change = client.get(f"/admin/requests_app/datarequest/{dr.pk}/change/").content.decode()
    assert "audit trail" in change.lower() and "not_our_data" in change


def test_admin_assign_and_internal_note(client, staff_user, agent, make_request):
    dr = make_request()
    client.force_login(staff_user)
    url = f"/admin/requests_app/datarequest/{dr.pk}/change/"
    data = {
        "assignee": agent.pk,
        "notes-TOTAL_FORMS": "1",
        "notes-INITIAL_FORMS": "0",
        "notes-MIN_NUM_FORMS": "0",
        "notes-MAX_NUM_FORMS": "1000",
        "notes-0-body": "Called the requester.",
        "messages-TOTAL_FORMS": "0",
        "messages-INITIAL_FORMS": "0",
        "files-TOTAL_FORMS": "0",
        "files-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    dr.refresh_from_db()
    assert dr.assignee == agent
    assert dr.notes.get().body == "Called the requester."
    assert dr.events.filter(verb="assigned", new=agent.username).exists()


def test_staff_open_requester_attachment_in_admin_only(client, staff_user, user_factory, db):
    pdf = SimpleUploadedFile("id.pdf", b"%PDF-1.4 id card", content_type="application/pdf")
    client.post(NEW, {**form_data(), "attachment": pdf})
    dr = DataRequest.objects.get()
    f = dr.files.get()
    url = f"/admin/requests_app/datarequest/{dr.pk}/files/{f.pk}/"
    client.force_login(user_factory())
    assert client.get(url).status_code == 302  # not staff: to the admin login
    client.force_login(staff_user)
    change = client.get(f"/admin/requests_app/datarequest/{dr.pk}/change/").content.decode()
    assert url in change
    assert b"".join(client.get(url).streaming_content) == b"%PDF-1.4 id card"


def test_requester_message_notifies_staff(
    make_request, agent, staff_user, django_capture_on_commit_callbacks, mailoutbox
):
    dr = services.assign_request(data_request=make_request(), assignee=agent, actor=staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(data_request=dr, body="Is there any news?", from_staff=False)
    staff_mail = [m for m in mailoutbox if agent.email in m.to]
    assert len(staff_mail) == 1 and "Is there any news?" in staff_mail[0].body and dr.reference in staff_mail[0].subject


def test_signed_in_user_filing_for_another_address_gets_no_access_to_it(client, user_factory):
    user = user_factory(email="mallory@example.com")
    login_recent(client, user)
    response = client.post(NEW, form_data(requester_email="victim@example.com"))
    dr = DataRequest.objects.get()
    assert dr.user is None and dr.status == S.AWAITING_VERIFICATION
    assert response.url == reverse("requests_app:submitted")
    assert client.get(f"/requests/{dr.reference}/").status_code == 404
    assert dr.reference not in client.get("/requests/mine/").content.decode()


def _status_path(dr) -> str:
    return services.status_url(dr).split("127.0.0.1:8000")[-1]


def test_status_page_messages_are_rate_limited_per_request_and_keep_the_text(client, make_request, settings):
    settings.DSR_MESSAGE_RATE_LIMIT_REQUEST = "2/h"
    dr, other = make_request(), make_request()
    url = _status_path(dr)
    codes = [client.post(url, {"action": "message", "body": f"Message number {i}"}).status_code for i in range(2)]
    assert codes == [302, 302]
    refused = client.post(url, {"action": "message", "body": "Message number 2, with care"})
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many messages" in page and "Message number 2, with care</textarea>" in page
    assert [m.body for m in dr.messages.all()] == ["Message number 0", "Message number 1"]
    # Another request's page is counted on its own.
    assert client.post(_status_path(other), {"action": "message", "body": "Hello"}).status_code == 302


def test_status_page_messages_are_rate_limited_per_ip(client, make_request, settings):
    settings.DSR_MESSAGE_RATE_LIMIT_IP = "2/h"
    made = [make_request() for _ in range(3)]
    codes = [client.post(_status_path(dr), {"action": "message", "body": "Any news?"}).status_code for dr in made]
    assert codes == [302, 302, 429]
    assert not made[2].messages.exists()
    # Withdrawing is not a message and stays possible.
    client.post(_status_path(made[2]), {"action": "withdraw"})
    made[2].refresh_from_db()
    assert made[2].status == S.WITHDRAWN


def test_far_oversized_upload_is_refused_before_the_body_is_read(client, db, settings, monkeypatch):
    from django.http import multipartparser

    settings.DSR_ATTACHMENT_MAX_BYTES = 1000

    def must_not_parse(self):
        raise AssertionError("the oversized body was read")

    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", must_not_parse)
    big = SimpleUploadedFile("id.pdf", b"%PDF-1.4" + b"0" * 200_000, content_type="application/pdf")
    response = client.post(NEW, {**form_data(), "attachment": big})
    assert response.status_code == 413
    assert "The file is too large (at most 1000" in response.content.decode()
    assert 'name="requester_email"' in response.content.decode()  # the form, to fill in again
    assert DataRequest.objects.count() == 0


def test_intake_form_still_checks_csrf(db, settings):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(NEW, form_data()).status_code == 403
    assert DataRequest.objects.count() == 0


def test_staff_and_requester_each_read_a_status_label_meant_for_them(client, staff_user, verified_request):
    dr = services.request_information(data_request=verified_request(), actor=staff_user, message="Which account?")
    page = client.get(_status_path(dr)).content.decode()
    assert "Awaiting your reply" in page and "to “Awaiting your reply”" in page
    client.force_login(staff_user)
    queue = client.get("/admin/requests_app/datarequest/").content.decode()
    change = client.get(f"/admin/requests_app/datarequest/{dr.pk}/change/").content.decode()
    for staff_page in (queue, change):
        assert "Awaiting requester" in staff_page and "Awaiting your reply" not in staff_page
