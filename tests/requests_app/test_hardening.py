"""The security review's findings on requests: confirmation by POST, staff approval, limits, mails, headers."""

import time

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from core import ratelimit
from core.permissions import PRIVACY_OFFICER, SUPPORT_AGENT, sync_group_permissions
from requests_app import services
from requests_app.models import DataRequest, RequestStatus
from requests_app.signals import request_verified

S = RequestStatus
NEW = "/requests/new/"
PHISHING = "Your account is locked, sign in at https://evil.example.net/login now"


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


@pytest.fixture
def signals():
    received = []

    def receiver(sender, data_request, **kwargs):
        received.append(data_request.pk)

    request_verified.connect(receiver)
    yield received
    request_verified.disconnect(receiver)


@pytest.fixture
def staff_in(db, user_factory):
    sync_group_permissions()

    def make(group=None):
        member = user_factory(is_staff=True)
        if group:
            member.groups.add(Group.objects.get(name=group))
        return member

    return make


def _confirm_by_link(client, data_request):
    url = reverse("requests_app:verify", kwargs={"token": services.issue_verification_token(data_request=data_request)})
    return client.post(url, {"action": "confirm"})


# --- finding 4: staff approval for e-mail-only requesters -----------------------------------


@pytest.mark.parametrize("kind", ["access", "portability", "restriction", "objection"])
def test_email_only_request_waits_for_staff_before_anything_happens(
    client, make_request, signals, kind, django_capture_on_commit_callbacks
):
    dr = make_request(kind=kind)
    with django_capture_on_commit_callbacks(execute=True):
        page = _confirm_by_link(client, dr)
    assert b"Our privacy team checks it" in page.content
    dr.refresh_from_db()
    assert dr.status == S.VERIFIED and dr.awaits_release_approval
    assert signals == []  # no export, no restriction started
    from fulfilment.models import DataExport
    from registry.models import ProcessingRestriction

    assert not DataExport.objects.filter(data_request=dr).exists()
    assert not ProcessingRestriction.objects.filter(request_reference=dr.reference).exists()
    status = client.get(services.status_url(dr).split("127.0.0.1:8000")[-1]).content.decode()
    assert "Our privacy team checks it" in status


def test_held_request_cannot_be_worked_exported_or_restricted_before_approval(make_request, client, staff_user):
    from fulfilment import services as registry_services

    dr = make_request(kind="access")
    _confirm_by_link(client, dr)
    dr.refresh_from_db()
    with pytest.raises(ValidationError):
        services.start_request(data_request=dr, actor=staff_user)
    with pytest.raises(ValidationError):
        services.complete_request(data_request=dr, actor=staff_user, summary="Sent")
    with pytest.raises(ValidationError):
        registry_services.start_export(data_request=dr, actor=staff_user)
    restriction = make_request(kind="restriction")
    _confirm_by_link(client, restriction)
    restriction.refresh_from_db()
    with pytest.raises(ValidationError):
        registry_services.restrict_processing(data_request=restriction, kind="restriction")


def test_only_staff_with_the_permission_approve_and_the_approval_is_audited(
    client, make_request, signals, staff_in, django_capture_on_commit_callbacks
):
    dr = make_request(kind="access")
    _confirm_by_link(client, dr)
    dr.refresh_from_db()
    agent = staff_in(SUPPORT_AGENT)
    with pytest.raises(PermissionDenied):
        services.approve_release(data_request=dr, actor=agent)
    with pytest.raises(PermissionDenied):
        services.approve_release(data_request=dr, actor=None)
    officer = staff_in(PRIVACY_OFFICER)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_release(data_request=dr, actor=officer)
    dr.refresh_from_db()
    assert not dr.awaits_release_approval and dr.release_approved_by == officer
    assert signals == [dr.pk]
    event = dr.events.get(verb="approval", new="approved")
    assert event.actor == officer and event.old == "required"
    with pytest.raises(ValidationError):
        services.approve_release(data_request=dr, actor=officer)


def test_admin_page_offers_approval_to_officers_only(client, make_request, staff_in, signals):
    dr = make_request(kind="access")
    _confirm_by_link(client, dr)
    change = reverse("admin:requests_app_datarequest_change", args=[dr.pk])
    approve = reverse("admin:requests_app_datarequest_workflow", args=[dr.pk, "approve"])
    client.force_login(staff_in(SUPPORT_AGENT))
    page = client.get(change).content.decode()
    assert approve not in page and "/workflow/start/" not in page
    assert client.post(approve).status_code == 403
    waiting = client.get(reverse("admin:requests_app_datarequest_changelist") + "?approval=waiting")
    assert dr.reference in waiting.content.decode()
    client.force_login(staff_in(PRIVACY_OFFICER))
    page = client.get(change).content.decode()
    assert approve in page and "Approve and carry out" in page
    assert client.post(approve).status_code == 302
    dr.refresh_from_db()
    assert dr.release_approved_at is not None


def test_setting_off_carries_out_email_only_requests_at_once(
    client, make_request, signals, settings, django_capture_on_commit_callbacks
):
    settings.DSR_EMAIL_ONLY_NEEDS_APPROVAL = False
    dr = make_request(kind="access")
    with django_capture_on_commit_callbacks(execute=True):
        _confirm_by_link(client, dr)
    dr.refresh_from_db()
    assert not dr.awaits_release_approval and signals == [dr.pk]


def test_recently_signed_in_owner_gets_their_export_without_a_staff_step(
    client, user_factory, signals, django_capture_on_commit_callbacks
):
    user = user_factory(email="owner@example.com")
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "email": user.email}]
    session.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(NEW, form_data(requester_email="owner@example.com"))
    dr = DataRequest.objects.get()
    assert dr.status == S.VERIFIED and not dr.awaits_release_approval and signals == [dr.pk]


def test_other_kinds_confirmed_by_email_are_not_held(client, make_request, signals, django_capture_on_commit_callbacks):
    dr = make_request(kind="erasure")  # the erasure waits for its own approval in the registry
    with django_capture_on_commit_callbacks(execute=True):
        _confirm_by_link(client, dr)
    dr.refresh_from_db()
    assert not dr.awaits_release_approval and signals == [dr.pk]


# --- finding 7: the per-address intake limit -------------------------------------------------

local_parts = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)
domains = st.from_regex(r"[a-z0-9-]{1,15}\.(com|org|net|be)", fullmatch=True)
tags = st.from_regex(r"[A-Za-z0-9._+-]{0,12}", fullmatch=True)


@given(local=local_parts, domain=domains, tag=tags, upper=st.booleans())
def test_limit_key_folds_case_and_plus_tags(local, domain, tag, upper):
    plain = f"{local}@{domain}"
    variant = f"{local}+{tag}@{domain}"
    if upper:
        variant = variant.upper()
    assert ratelimit.email_key(variant) == ratelimit.email_key(plain) == plain


@given(a=local_parts, b=local_parts, domain=domains)
def test_limit_key_keeps_different_mailboxes_apart(a, b, domain):
    if a != b:
        assert ratelimit.email_key(f"{a}@{domain}") != ratelimit.email_key(f"{b}@{domain}")


def test_ipv6_clients_are_counted_per_64_and_ipv4_per_address(settings):
    settings.NUM_PROXIES = 0
    rf = RequestFactory()

    def key(addr):
        return ratelimit.client_key(rf.get("/", REMOTE_ADDR=addr))

    assert key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert key("2001:db8:1:3::1") != key("2001:db8:1:2::1")
    assert key("192.0.2.1") == "192.0.2.1" != key("192.0.2.2")
    assert key("::ffff:192.0.2.1") == "192.0.2.1"


def test_plus_tag_and_case_variants_share_the_address_limit(client, db, settings):
    settings.DSR_INTAKE_RATE_LIMIT_EMAIL = "2/h"
    emails = ["victim@example.com", "Victim+1@Example.com", "victim+7@example.com"]
    codes = [client.post(NEW, form_data(requester_email=e)).status_code for e in emails]
    assert codes == [302, 302, 429]


def test_ipv6_neighbours_share_the_client_limit(client, db, settings):
    settings.DSR_INTAKE_RATE_LIMIT_IP = "2/h"
    addrs = ["2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6:aaaa::3"]
    codes = [
        client.post(NEW, form_data(requester_email=f"p{i}@example.com"), REMOTE_ADDR=a).status_code
        for i, a in enumerate(addrs)
    ]
    assert codes == [302, 302, 429]


def test_signed_in_owner_is_not_locked_out_by_anonymous_submissions(client, user_factory, settings):
    settings.DSR_INTAKE_RATE_LIMIT_EMAIL = "2/h"
    settings.DSR_INTAKE_RATE_LIMIT_IP = "100/h"
    owner = user_factory(email="owner@example.com")
    for kind in ("access", "erasure", "objection"):
        client.post(NEW, form_data(kind=kind, requester_email="owner@example.com"))
    assert client.post(NEW, form_data(requester_email="owner@example.com")).status_code == 429  # anonymous
    client.force_login(owner)
    response = client.post(NEW, form_data(kind="portability", requester_email="owner@example.com"))
    assert response.status_code == 302
    assert DataRequest.objects.filter(user=owner, kind="portability").exists()


def test_one_address_receives_a_capped_number_of_mails_per_day(
    client, db, settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.DSR_UNVERIFIED_MAILS_PER_ADDRESS = "3/d"
    settings.DSR_INTAKE_RATE_LIMIT_EMAIL = "100/h"
    settings.DSR_INTAKE_RATE_LIMIT_IP = "100/h"
    for i in range(4):  # four submissions would send eight mails (acknowledgement and verification each)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(NEW, form_data(requester_email=f"target+{i}@example.com", kind="access"))
    time.sleep(0.5)
    received = [m for m in smtp_server.messages if "example.com" in (m["To"] or "")]
    assert len(received) == 3


# --- finding 8: nothing the requester typed in mails before verification ---------------------


def test_mails_before_verification_greet_neutrally_and_carry_no_requester_text(
    client, db, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(NEW, form_data(requester_name=PHISHING, details=PHISHING, requester_email="victim@example.com"))
    msgs = smtp_server.wait_for("victim@example.com", count=2)
    assert len(msgs) == 2
    for msg in msgs:
        whole = msg.as_string()
        assert "evil.example.net" not in whole and "account is locked" not in whole
        assert "Hello," in smtp_server.text(msg)


def test_mails_after_verification_use_the_name(client, make_request, staff_user, mailoutbox):
    dr = make_request(name="Robin Example")
    services.verify_request(data_request=dr, actor=staff_user)
    services.post_message(data_request=dr, body="Any news?", author=staff_user, from_staff=True)
    from requests_app.mails import send_request_mail

    mailoutbox.clear()
    send_request_mail(data_request_id=dr.pk, mail="message", extra={})
    assert "Dear Robin Example," in mailoutbox[0].body


# --- finding 10: secret URLs are neither cached nor passed on as a Referer -------------------


def _assert_private(response):
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "strict-origin"


def test_pages_with_a_secret_in_their_url_are_not_cached_nor_referred(client, make_request, staff_user, tmp_path):
    dr = make_request()
    token = services.issue_verification_token(data_request=dr)
    verify = reverse("requests_app:verify", kwargs={"token": token})
    _assert_private(client.get(verify))
    _assert_private(client.head(verify))
    _assert_private(client.get(reverse("requests_app:verify", kwargs={"token": "bad.token"})))
    status = services.status_url(dr).split("127.0.0.1:8000")[-1]
    _assert_private(client.get(status))
    services.verify_request(data_request=dr, actor=staff_user)
    row = services.add_result_file(data_request=dr, name="answer.txt", path_or_file=b"hello", actor=staff_user)
    status_token = services.make_status_token(dr)
    _assert_private(client.get(reverse("requests_app:status_file", kwargs={"token": status_token, "file_id": row.pk})))


def test_unsubscribe_page_is_not_cached_nor_referred(client, user_factory):
    from consent.services import build_unsubscribe_url

    url = build_unsubscribe_url(user=user_factory()).split("127.0.0.1:8000")[-1]
    response = client.get(url)
    assert response.status_code == 200
    _assert_private(response)
