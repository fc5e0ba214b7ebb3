"""A third party's privacy contact confirms a notice through the mailed link in a real browser: the mail travels over
real SMTP, the page needs no account, opening it changes nothing, the button confirms, and the link is then spent."""

import re

import pytest

from consent import services as consent_services
from consent.defaults import ensure_purposes
from consent.models import Purpose, Vendor
from fulfilment.models import Propagation, PropagationState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_privacy_contact_confirms_a_withdrawn_consent_from_the_mailed_link(
    page, live_server, smtp_server, settings, user_factory, django_capture_on_commit_callbacks
):
    settings.SITE_URL = live_server.url
    ensure_purposes()
    vendor = Vendor(
        name="Example Mailer",
        purpose="Sending our e-mails",
        country="Germany",
        propagation_method="email",
        privacy_email="privacy@mailer.example.com",
    )
    consent_services.save_configuration(obj=vendor, actor=None)
    vendor.consent_purposes.set([Purpose.objects.get(key=Purpose.MARKETING)])
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.set_purpose_consent(
            user=user_factory(email="ann@example.com"), purpose=Purpose.MARKETING, granted=False
        )
    [mail] = smtp_server.wait_for("privacy@mailer.example.com")
    link = re.search(r"https?://\S+/privacy/data/recipients/confirm/\S+/", smtp_server.text(mail)).group(0)

    page.goto(link)
    main = page.inner_text("main")
    assert "ann@example.com" in main and "withdrew their consent" in main
    assert Propagation.objects.get().state == PropagationState.SENT  # opening the page confirms nothing
    page.get_by_role("button", name="We have acted on it").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    row = Propagation.objects.get()
    assert row.state == PropagationState.CONFIRMED and row.confirmed_at is not None
    page.goto(link)
    assert "does not work" in page.inner_text("main")
