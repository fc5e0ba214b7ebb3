"""Third parties hear of the events that concern what they receive, by the method chosen for each: through a
connected web service (the reference receiver), by a mail to their privacy contact (real SMTP) with a link to
confirm, or not at all with a reason; one ledger row per event and third party."""

import datetime as dt
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from consent import services as consent_services
from consent.defaults import ensure_categories, ensure_purposes
from consent.models import Category, CookieDeclaration, Property, Purpose, Vendor
from fulfilment import propagation
from fulfilment.models import Propagation, PropagationState
from requests_app.services import create_verified_request
from systems.models import ExternalSystem
from systems.services import load_systems

pytestmark = pytest.mark.django_db(transaction=False)


def _systems(port: int) -> None:
    load_systems(
        text=f"""\
systems:
  - key: adnetwork
    name: Ad network adapter
    kind: http
    owner: {{name: Marketing, email: marketing@example.com}}
    url: http://127.0.0.1:{port}
    secret_env: HELPDESK_WEBHOOK_SECRET
    timeout: 5
    actions: [opt_out, consent]
  - key: crm_api
    name: CRM service
    kind: http
    owner: {{name: Sales, email: sales@example.com}}
    url: http://127.0.0.1:{port}
    secret_env: HELPDESK_WEBHOOK_SECRET
    timeout: 5
    actions: [access]
  - key: archive
    name: Paper archive
    kind: manual
    owner: {{name: Archive desk, email: archive@example.com}}
    actions: [access]
"""
    )


def _vendor(name: str, **fields) -> Vendor:
    purposes = fields.pop("purposes", [])
    vendor = Vendor(name=name, purpose="Advertising", country="Ireland", **fields)
    consent_services.save_configuration(obj=vendor, actor=None)
    vendor.consent_purposes.set(Purpose.objects.filter(key__in=purposes))
    return vendor


def _link(text: str) -> str:
    return re.search(r"https?://\S+/privacy/data/recipients/confirm/(\S+)/", text).group(1)


# --- the method and its validation ------------------------------------------------------------------------------


def test_a_vendor_method_is_refused_when_it_cannot_work(receiver):
    _systems(receiver["port"])
    cases = [
        ({"propagation_method": "none"}, "not_told_reason"),
        ({"propagation_method": "email"}, "privacy_email"),
        ({"propagation_method": "http"}, "propagation_system"),
        ({"propagation_method": "http", "propagation_system": ExternalSystem.objects.get(key="crm_api")}, None),
        ({"propagation_method": "http", "propagation_system": ExternalSystem.objects.get(key="archive")}, None),
        ({"propagation_method": "none", "not_told_reason": "x", "data_categories": ["user.shoe_size"]}, None),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as caught:
            _vendor("Example Ads", **fields)
        expected = field or next(iter(caught.value.error_dict))
        assert expected in caught.value.error_dict, fields
    assert not Vendor.objects.exists()
    ads = _vendor(
        "Example Ads", propagation_method="http", propagation_system=ExternalSystem.objects.get(key="adnetwork")
    )
    mailer = _vendor("Example Mailer", propagation_method="email", privacy_email="privacy@mailer.example.com")
    stats = _vendor("Example Analytics", propagation_method="none", not_told_reason="Receives only visit counts.")
    assert [v.propagation_method for v in (ads, mailer, stats)] == ["http", "email", "none"]


def test_the_vendor_page_speaks_the_privacy_teams_words_and_refuses_bad_input(client, receiver, user_factory):
    from django.contrib.auth.models import Group

    from tests.audit.helpers import change_form_data

    _systems(receiver["port"])
    officer = user_factory(is_staff=True, email="officer@example.com")
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    client.force_login(officer)
    page = client.get("/admin/consent/vendor/add/")
    html = page.content.decode()
    for words in ("How they are told", "by e-mail to their privacy contact", "Kinds of personal data they receive"):
        assert words in html
    assert "Paper archive" not in html and "CRM service" in html  # only web services are offered
    data = change_form_data(
        page,
        name="Example Ads",
        purpose="Ads",
        country="Ireland",
        properties=[],
        consent_purposes=[],
        data_categories=[],
    )
    data.update(propagation_method="email", privacy_email="")
    refused = client.post("/admin/consent/vendor/add/", data)
    assert (
        refused.status_code == 200 and "Give the e-mail address of their privacy contact." in refused.content.decode()
    )
    data.update(privacy_email="privacy@ads.example.com", data_categories=["user.contact.email"])
    saved = client.post("/admin/consent/vendor/add/", data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    listing = client.get("/admin/consent/vendor/").content.decode()
    assert "e-mail to privacy@ads.example.com" in listing and ">email<" not in listing
    agent = user_factory(is_staff=True, email="agent@example.com")
    agent.groups.add(Group.objects.get(name="Support agent"))
    client.force_login(agent)
    assert client.post("/admin/consent/vendor/add/", data).status_code == 403


# --- who is told of what ----------------------------------------------------------------------------------------


def test_a_withdrawn_consent_reaches_only_the_vendors_receiving_data_for_that_purpose(
    receiver, user_factory, smtp_server, django_capture_on_commit_callbacks
):
    _systems(receiver["port"])
    ensure_purposes()
    adnetwork = ExternalSystem.objects.get(key="adnetwork")
    ads = _vendor("Example Ads", propagation_method="http", propagation_system=adnetwork, purposes=["marketing"])
    mailer = _vendor(
        "Example Mailer", propagation_method="email", privacy_email="privacy@mailer.example.com", purposes=["marketing"]
    )
    _vendor(
        "Research Partner", propagation_method="email", privacy_email="dpo@research.example.com", purposes=["research"]
    )
    _vendor("Quiet Ltd", propagation_method="none", not_told_reason="Contract ended.", purposes=["marketing"])
    ann = user_factory(email="ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.set_purpose_consent(user=ann, purpose=Purpose.MARKETING, granted=False)
    rows = {r.recipient_name: r for r in Propagation.objects.all()}
    assert set(rows) == {"Example Ads", "Example Mailer"}  # one row per vendor; research and "none" are not told
    assert rows["Example Ads"].state == PropagationState.CONFIRMED and rows["Example Ads"].vendor == ads
    [(action, signed, raw)] = receiver["calls"]  # the vendor's web service, once, not also as a plain system
    assert (action, signed, json.loads(raw)["purpose"]) == ("consent", True, "marketing")
    row = rows["Example Mailer"]
    assert (row.state, row.vendor, row.contact_email) == (PropagationState.SENT, mailer, "privacy@mailer.example.com")
    assert "Art. 7(3)" in row.rule and row.due_at > timezone.now() + dt.timedelta(days=29)
    [mail] = smtp_server.wait_for("privacy@mailer.example.com")
    text = smtp_server.text(mail)
    assert "withdrew a consent" in mail["Subject"]
    assert "ann@example.com" in text and str(Purpose.objects.get(key="marketing")) in text
    assert timezone.localtime(row.due_at).date().isoformat() in text
    assert smtp_server.to("dpo@research.example.com") == []
    token = _link(text)
    assert token not in row.token_hash and row.token_hash  # only its hash is kept


def test_an_unsubscribe_link_reaches_the_marketing_vendors(user_factory, django_capture_on_commit_callbacks):
    ensure_purposes()
    _vendor(
        "Example Mailer", propagation_method="email", privacy_email="privacy@mailer.example.com", purposes=["marketing"]
    )
    ann = user_factory(email="ann@example.com")
    consent_services.set_purpose_consent(user=ann, purpose=Purpose.MARKETING, granted=True)
    token = consent_services.build_unsubscribe_url(user=ann).rsplit("/", 2)[-2]
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.unsubscribe(token=token)
    [row] = Propagation.objects.all()
    assert (row.recipient_name, row.event, row.purpose) == ("Example Mailer", "consent_withdrawn", "marketing")


def test_an_opt_out_reaches_vendors_receiving_data_for_sale_sharing_or_targeting(
    receiver, user_factory, smtp_server, django_capture_on_commit_callbacks
):
    _systems(receiver["port"])
    ensure_categories()
    shop = Property.objects.create(name="Shop")
    pixel = _vendor("Example Pixel", propagation_method="email", privacy_email="privacy@pixel.example.com")
    CookieDeclaration.objects.create(
        property=shop,
        category=Category.objects.get(key="targeting"),
        name="_px",
        provider="Example Pixel",
        purpose="Ads",
        duration="1 year",
        vendor=pixel,
    )
    _vendor(
        "Example Ads",
        propagation_method="http",
        propagation_system=ExternalSystem.objects.get(key="adnetwork"),
        sale_or_sharing=True,
    )
    _vendor("Example Payments", propagation_method="email", privacy_email="privacy@payments.example.com")
    ann = user_factory(email="ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=ann, kind="opt_out")
    rows = {r.recipient_name: r for r in data_request.propagations.all()}
    assert set(rows) == {"Example Ads", "Example Pixel"}
    assert all("CCPA" in r.rule for r in rows.values())
    assert rows["Example Ads"].task is not None and rows["Example Ads"].state == PropagationState.CONFIRMED
    assert [c[0] for c in receiver["calls"]] == ["opt_out"]
    [mail] = smtp_server.wait_for("privacy@pixel.example.com")
    assert data_request.reference in smtp_server.text(mail) and "ann@example.com" in smtp_server.text(mail)
    assert smtp_server.to("privacy@payments.example.com") == []
    # A GPC signal from the same account tells each opt-out recipient once per account.
    with django_capture_on_commit_callbacks(execute=True):
        first = propagation.propagate_consent(user=ann, purpose="sale_or_sharing", gpc=True)
        again = propagation.propagate_consent(user=ann, purpose="sale_or_sharing", gpc=True)
    assert {r.recipient_name for r in first} == {"Example Ads", "Example Pixel"} and again == []


def test_a_restriction_reaches_the_vendors_receiving_the_persons_kinds_of_data(
    user_factory, smtp_server, django_capture_on_commit_callbacks
):
    # The portal holds every account's e-mail address (user.contact.email): a third party receiving contact
    # details hears of it; one receiving only gender data does not.
    _vendor(
        "Example Mailer",
        propagation_method="email",
        privacy_email="privacy@mailer.example.com",
        data_categories=["user.contact"],
    )
    _vendor(
        "Survey Co",
        propagation_method="email",
        privacy_email="privacy@survey.example.com",
        data_categories=["user.demographic.gender"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind="restriction")
    [row] = data_request.propagations.filter(vendor__isnull=False)
    assert (row.recipient_name, row.event, row.state) == ("Example Mailer", "restriction", PropagationState.SENT)
    assert "Art. 19" in row.rule
    [mail] = smtp_server.wait_for("privacy@mailer.example.com")
    assert "restricted" in mail["Subject"] and "ann@example.com" in smtp_server.text(mail)
    assert smtp_server.to("privacy@survey.example.com") == []


def test_a_web_service_that_takes_no_such_notice_falls_back_to_the_privacy_contact_or_fails(
    receiver, user_factory, officer_for_alerts, mailoutbox, django_capture_on_commit_callbacks
):
    _systems(receiver["port"])
    adnetwork = ExternalSystem.objects.get(key="adnetwork")  # takes opt_out and consent, not restriction
    _vendor("With contact", propagation_method="http", propagation_system=adnetwork, data_categories=["user.contact"])
    Vendor.objects.filter(name="With contact").update(privacy_email="privacy@contact.example.com")
    _vendor("Without contact", propagation_method="http", propagation_system=adnetwork, data_categories=["user"])
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind="restriction")
    rows = {r.recipient_name: r for r in data_request.propagations.all()}
    assert rows["With contact"].contact_email == "privacy@contact.example.com"
    assert rows["With contact"].state == PropagationState.SENT and rows["With contact"].task is None
    assert (
        rows["Without contact"].state == PropagationState.FAILED
        and "Ad network adapter" in rows["Without contact"].error
    )
    assert receiver["calls"] == []
    assert any(m.to == ["officer@example.com"] for m in mailoutbox)


@pytest.fixture
def officer_for_alerts(user_factory):
    from django.contrib.auth.models import Group

    user = user_factory(is_staff=True, email="officer@example.com")
    user.groups.add(Group.objects.get(name="Privacy officer"))
    return user


# --- the confirmation link --------------------------------------------------------------------------------------


def _mailed_notice(user_factory, smtp_server, capture) -> tuple[Propagation, str]:
    ensure_purposes()
    _vendor(
        "Example Mailer", propagation_method="email", privacy_email="privacy@mailer.example.com", purposes=["marketing"]
    )
    with capture(execute=True):
        consent_services.set_purpose_consent(
            user=user_factory(email="ann@example.com"), purpose=Purpose.MARKETING, granted=False
        )
    [mail] = smtp_server.wait_for("privacy@mailer.example.com")
    return Propagation.objects.get(), _link(smtp_server.text(mail))


def test_the_contact_confirms_with_a_post_and_the_link_then_stops_working(
    client, user_factory, smtp_server, django_capture_on_commit_callbacks
):
    from audit.selectors import list_object_events

    row, token = _mailed_notice(user_factory, smtp_server, django_capture_on_commit_callbacks)
    url = f"/privacy/data/recipients/confirm/{token}/"
    page = client.get(url)
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    text = page.content.decode()
    assert "ann@example.com" in text and "We have acted on it" in text
    row.refresh_from_db()
    assert row.state == PropagationState.SENT  # opening the link changes nothing
    assert client.post(url).status_code == 200
    row.refresh_from_db()
    assert row.state == PropagationState.CONFIRMED and row.confirmed_at and row.subject_email == ""
    event = list_object_events(obj=row).get(verb="propagation_confirmed")
    assert "privacy@mailer.example.com" in event.actor_label
    assert client.get(url).status_code == 404 and client.post(url).status_code == 404  # spent


def test_an_expired_or_unknown_confirmation_link_does_not_open(
    client, user_factory, smtp_server, django_capture_on_commit_callbacks
):
    row, token = _mailed_notice(user_factory, smtp_server, django_capture_on_commit_callbacks)
    assert client.get("/privacy/data/recipients/confirm/not-a-token/").status_code == 404
    assert client.get("/privacy/data/recipients/confirm/" + "x" * 150 + "/").status_code == 404
    Propagation.objects.filter(pk=row.pk).update(token_expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.post(f"/privacy/data/recipients/confirm/{token}/")
    assert response.status_code == 404 and "does not work" in response.content.decode()
    row.refresh_from_db()
    assert row.state == PropagationState.SENT


def test_sending_again_replaces_the_link(client, user_factory, smtp_server, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Group

    row, first = _mailed_notice(user_factory, smtp_server, django_capture_on_commit_callbacks)
    officer = user_factory(is_staff=True, email="officer@example.com")
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    with django_capture_on_commit_callbacks(execute=True):
        propagation.resend_propagation(row=row, actor=officer)
    second = _link(smtp_server.text(smtp_server.wait_for("privacy@mailer.example.com", count=2)[-1]))
    assert client.get(f"/privacy/data/recipients/confirm/{first}/").status_code == 404
    assert client.get(f"/privacy/data/recipients/confirm/{second}/").status_code == 200


def test_a_manual_system_owner_confirms_a_consent_notice_through_the_link(
    receiver, client, user_factory, smtp_server, django_capture_on_commit_callbacks
):
    load_systems(
        text="""\
systems:
  - key: partner_list
    name: Partner mailing list
    kind: manual
    owner: {name: Partnerships, email: partners@example.com}
    actions: [consent]
"""
    )
    ensure_purposes()
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.set_purpose_consent(
            user=user_factory(email="bea@example.com"), purpose=Purpose.RESEARCH, granted=False
        )
    [mail] = smtp_server.wait_for("partners@example.com")
    token = _link(smtp_server.text(mail))
    assert client.post(f"/privacy/data/recipients/confirm/{token}/").status_code == 200
    row = Propagation.objects.get(recipient_key="partner_list")
    assert row.state == PropagationState.CONFIRMED and row.vendor is None
