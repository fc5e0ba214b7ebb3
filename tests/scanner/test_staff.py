"""Staff side of the scanner: Scan now (registered addresses only), permissions, proposals, alerts, dashboard."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from consent.defaults import ensure_categories
from consent.models import CookieDeclaration, Property
from core.permissions import PRIVACY_OFFICER, SUPPORT_AGENT, sync_group_permissions
from scanner import services
from scanner.models import FindingKind, ScanFinding, ScanStatus, ScanTrigger, WebsiteScan
from scanner.rules import NO_CHOICE


def member(group: str, email: str):
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    sync_group_permissions()
    user = UserFactory(is_staff=True, email=email)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def officer(db):
    return member(PRIVACY_OFFICER, "officer@example.com")


@pytest.fixture
def agent(db):
    return member(SUPPORT_AGENT, "agent@example.com")


@pytest.fixture
def website(db):
    cats = ensure_categories()
    prop = Property.objects.create(name="Shop", allowed_origins="https://www.shop.example.com")
    prop.categories.set(cats.values())
    return prop


def finished_scan(prop, *, kind=FindingKind.UNDECLARED_COOKIE, subject="_ga", proposal=True) -> WebsiteScan:
    scan = WebsiteScan.objects.create(
        property=prop, trigger=ScanTrigger.SCHEDULE, max_pages=1, status=ScanStatus.DONE, report={"findings": []}
    )
    ScanFinding.objects.create(
        scan=scan,
        kind=kind,
        subject=subject,
        state=NO_CHOICE,
        page="https://www.shop.example.com/",
        detail="The cookie _ga is set but not declared.",
        is_new=True,
        proposal={
            "name": "_ga",
            "is_regex": False,
            "provider": "Google Analytics",
            "category": "performance",
            "purpose": "Visit statistics.",
            "duration": "2 years",
            "party": "first",
        }
        if proposal
        else None,
    )
    return scan


def test_staff_scans_visit_only_the_websites_registered_addresses(website, officer, settings):
    settings.SCANNER_CHROMIUM = "/bin/true"  # any existing file: the scan is only queued here
    with pytest.raises(ValidationError):
        services.start_scan(
            prop=website, actor=officer, trigger=ScanTrigger.STAFF, urls=["http://169.254.169.254/"], queue=False
        )
    scan = services.start_scan(prop=website, actor=officer, trigger=ScanTrigger.STAFF, queue=False)
    assert scan.start_urls == ["https://www.shop.example.com/"]
    assert scan.allowed_origins == ["https://www.shop.example.com"]
    assert AuditEvent.objects.filter(verb="scan_requested", object_id=str(scan.pk)).exists()


def test_a_website_without_addresses_cannot_be_scanned(db, officer):
    prop = Property.objects.create(name="Nowhere")
    with pytest.raises(ValidationError, match="no address"):
        services.start_scan(prop=prop, actor=officer, trigger=ScanTrigger.COMMAND, queue=False)


def test_a_support_agent_sees_scans_but_cannot_start_one(website, agent):
    with pytest.raises(PermissionDenied):
        services.start_scan(prop=website, actor=agent, trigger=ScanTrigger.STAFF, queue=False)
    assert agent.has_perm("scanner.view_websitescan")
    assert not agent.has_perm("scanner.add_websitescan")


def test_scan_now_without_chromium_says_what_to_install_and_starts_nothing(client, website, officer, settings):
    settings.SCANNER_CHROMIUM = "/nonexistent/chromium"
    client.force_login(officer)
    url = reverse("admin:scanner_websitescan_scan_now", args=[website.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "apt-get install chromium" in page.content.decode()
    assert client.post(url).status_code == 200
    assert not WebsiteScan.objects.exists()


def test_scan_now_is_refused_to_a_support_agent(client, website, agent):
    client.force_login(agent)
    assert client.get(reverse("admin:scanner_websitescan_scan_now", args=[website.pk])).status_code == 403


def test_the_website_page_offers_scan_now(client, website, officer):
    client.force_login(officer)
    page = client.get(reverse("admin:consent_property_change", args=[website.pk])).content.decode()
    assert reverse("admin:scanner_websitescan_scan_now", args=[website.pk]) in page


def test_a_scan_page_shows_findings_with_their_evidence(client, website, officer):
    scan = finished_scan(website)
    client.force_login(officer)
    page = client.get(reverse("admin:scanner_websitescan_change", args=[scan.pk])).content.decode()
    assert "Cookie not declared" in page and "Declare as proposed" in page and "Google Analytics" in page


def test_accepting_a_proposal_declares_the_cookie_and_asks_visitors_again(website, officer):
    finding = finished_scan(website).findings.get()
    before = website.revision
    declaration = services.accept_proposal(finding=finding, actor=officer)
    assert declaration.category.key == "performance" and declaration.provider == "Google Analytics"
    website.refresh_from_db()
    assert website.revision == before + 1
    finding.refresh_from_db()
    assert finding.declaration == declaration
    with pytest.raises(ValidationError):
        services.accept_proposal(finding=finding, actor=officer)
    assert AuditEvent.objects.filter(verb="proposal_accepted").exists()


def test_accepting_a_proposal_needs_the_right_to_declare_cookies(website, agent):
    finding = finished_scan(website).findings.get()
    with pytest.raises(PermissionDenied):
        services.accept_proposal(finding=finding, actor=agent)
    assert not CookieDeclaration.objects.filter(property=website).exists()


def test_accept_in_admin_is_one_confirmation(client, website, officer):
    finding = finished_scan(website).findings.get()
    client.force_login(officer)
    url = reverse("admin:scanner_websitescan_accept", args=[finding.pk])
    page = client.get(url).content.decode()
    assert "material change" in page
    assert "The scan found _ga on Shop, not declared." in page  # the cookie's name, not a blank
    client.post(url)
    assert CookieDeclaration.objects.filter(property=website, name="_ga").exists()


def test_new_findings_are_mailed_to_the_privacy_officers(website, officer, smtp_server):
    scan = finished_scan(website)
    assert services.alert_new_findings(scan_pk=scan.pk) == 1
    (message,) = smtp_server.wait_for("officer@example.com")
    assert "_ga" in smtp_server.text(message)


def test_the_dashboard_shows_the_last_scans_findings(client, website, officer):
    finished_scan(website)
    client.force_login(officer)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Shop: 1 finding in the last website scan" in page


def test_the_monthly_job_scans_websites_with_addresses_and_monthly_scans_on(website, db, monkeypatch):
    from scanner.models import ScanSettings

    queued = []
    monkeypatch.setattr(services, "_queue", queued.append)
    Property.objects.create(name="No address")
    off = Property.objects.create(name="Off", allowed_origins="https://off.example.com")
    ScanSettings.objects.create(property=off, monthly=False)
    started = services.scan_websites()
    assert [s.property for s in started] == [website]


def test_the_monthly_job_is_scheduled(db):
    from django_celery_beat.models import PeriodicTask

    from retention.services import ensure_scheduled_jobs

    ensure_scheduled_jobs()
    job = PeriodicTask.objects.get(task="scanner.scan_websites")
    assert job.crontab.day_of_month == "1"
