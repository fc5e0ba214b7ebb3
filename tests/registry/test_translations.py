"""What the registry tells people is in their language; what staff rewrote is shown as they wrote it."""

import html

import pytest

from retention.models import RetentionPolicy
from retention.policies import sync_policies


@pytest.fixture
def policies(db):
    sync_policies()


def _page(client, url, lang):
    return html.unescape(client.get(url, HTTP_ACCEPT_LANGUAGE=lang).content.decode())


@pytest.mark.smoke
def test_data_page_speaks_the_visitors_language(client, policies, settings):
    fr = _page(client, "/privacy/data/", "fr")
    for text in (
        "Profil du compte",  # a dataset title
        "Journaux de trafic",
        "Adresse IP",  # a data category
        "Administration fiscale",  # a recipient
        "Les factures sont conservées 7 ans après leur émission, puis supprimées.",  # a retention rule
        "Consentement (art. 6(1)(a))",  # a legal basis
    ):
        assert text in fr
    for english in ("Traffic logs", "Tax authority", "Invoices are kept 7 years", "IP address"):
        assert english not in fr
    en = _page(client, "/privacy/data/", "en")
    assert "Traffic logs" in en and "Invoices are kept 7 years after they were issued, then deleted." in en
    # A wording with a configured value: one translatable text, the number filled in.
    years = settings.CONSENT_LOG_RETENTION_YEARS
    nl = _page(client, "/privacy/data/", "nl")
    assert f"Het bewijs van toestemmingskeuzes wordt {years} jaar na de keuze verwijderd." in nl


def test_a_policy_staff_rewrote_is_shown_as_written_in_every_language(client, policies):
    RetentionPolicy.objects.filter(name="invoices-tax").update(
        description="Rechnungen: 10 Jahre (HGB).", customised=True
    )
    for lang in ("en", "fr", "de"):
        page = _page(client, "/privacy/data/", lang)
        assert "Rechnungen: 10 Jahre (HGB)." in page
    assert "Les factures sont conservées 7 ans" not in _page(client, "/privacy/data/", "fr")


def test_account_deletion_page_explains_what_is_kept_in_the_holders_language(client, policies, user_factory):
    client.force_login(user_factory())
    de = _page(client, "/account/delete/", "de")
    assert "Das Buchführungs- und Steuerrecht schreibt vor, Rechnungen 7 Jahre lang aufzubewahren." in de
    assert "accounting and tax law" not in de


@pytest.mark.django_db
def test_export_report_lists_datasets_in_the_requesters_language(user_factory, subject_data, verified_request_for):
    import zipfile
    from pathlib import Path

    from django.conf import settings as django_settings

    from fulfilment import services

    user = user_factory()
    subject_data(user)
    data_request = verified_request_for(user)
    data_request.language = "fr"
    data_request.save(update_fields=["language"])
    export = services.build_export(export=services.start_export(data_request=data_request))
    with zipfile.ZipFile(Path(django_settings.PRIVATE_ROOT) / export.file_path) as zf:
        report = html.unescape(zf.read("report.html").decode())
    assert "Journaux de trafic" in report and "Traffic logs" not in report
