"""The demo newsletter goes only to consenting subscribers who did not restrict or object."""

import pytest

from demo.models import NewsletterSubscription


@pytest.mark.smoke
@pytest.mark.django_db
def test_newsletter_honours_consent_restriction_and_objection(user_factory, mailoutbox):
    from consent.defaults import ensure_purposes
    from consent.services import set_purpose_consent
    from demo.services import send_newsletter
    from fulfilment.services import restrict_processing

    ensure_purposes()
    consenting, no_consent, restricted, objecting = (user_factory() for _ in range(4))
    for user in (consenting, no_consent, restricted, objecting):
        NewsletterSubscription.objects.create(user=user, email=user.email)
    for user in (consenting, restricted, objecting):
        set_purpose_consent(user=user, purpose="marketing", granted=True)
    restrict_processing(user=restricted, kind="restriction")
    restrict_processing(user=objecting, kind="objection", purposes=["marketing"])

    assert send_newsletter(subject="News", body="Hello") == 1
    (mail,) = mailoutbox
    assert mail.to == [consenting.email]
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        "/unsubscribe/" in mail.extra_headers["List-Unsubscribe"]
        or "unsubscribe" in mail.extra_headers["List-Unsubscribe"]
    )


@pytest.mark.django_db
def test_third_party_sharing_needs_consent_and_no_restriction(user_factory):
    from consent.defaults import ensure_purposes
    from consent.services import set_purpose_consent
    from demo.services import share_with_partner
    from fulfilment.services import restrict_processing

    ensure_purposes()
    user = user_factory()
    assert not share_with_partner(user=user)
    set_purpose_consent(user=user, purpose="third_party_sharing", granted=True)
    assert share_with_partner(user=user)
    restrict_processing(user=user, kind="restriction")
    assert not share_with_partner(user=user)
