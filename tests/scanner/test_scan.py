"""Scans of a real host site in headless Chromium, with the live portal's banner: findings per consent state."""

import json

import pytest
from django.core.management import call_command

from scanner import services
from scanner.models import ScanStatus, ScanTrigger, WebsiteScan
from scanner.rules import ACCEPT_ALL, GPC, NO_CHOICE, REJECT_ALL

pytestmark = pytest.mark.browser


def scan(prop, **kwargs):
    s = services.start_scan(prop=prop, actor=None, trigger=ScanTrigger.COMMAND, queue=False, **kwargs)
    return services.run_scan(scan=s)


def findings(report):
    return sorted((f["kind"], f["subject"], f["state"]) for f in report["findings"])


def test_a_scan_reports_exactly_what_runs_before_consent_and_nothing_that_is_blocked(
    scanned_site, host_site, vendor_site
):
    done = scan(scanned_site, max_pages=1)
    assert done.status == ScanStatus.DONE
    report = done.report
    assert report["pages"] == [host_site.origin + "/"]
    vendor_host = vendor_site.origin.split("//")[1]
    assert findings(report) == sorted(
        [
            ("cookie_before_consent", "_pre_tracker", NO_CHOICE),
            ("cookie_before_consent", "_pre_tracker", REJECT_ALL),
            ("cookie_before_consent", "_pre_tracker", GPC),
            ("undeclared_cookie", "_pre_tracker", NO_CHOICE),
            ("storage_before_consent", "shop_seen", NO_CHOICE),
            ("storage_before_consent", "shop_seen", REJECT_ALL),
            ("storage_before_consent", "shop_seen", GPC),
            ("undeclared_storage", "shop_seen", NO_CHOICE),
            ("stale_declaration", "old_cookie", ""),
        ]
    )
    cookies = {c["name"]: c for c in report["cookies"]}
    # The blocked performance script runs after "Accept all" only; the banner's own cookie is necessary.
    assert cookies["_perf"]["states"] == [ACCEPT_ALL] and cookies["_perf"]["declared"]
    assert cookies["_perf"]["category"] == "performance"
    assert "blocked script the banner ran" in cookies["_perf"]["evidence"][ACCEPT_ALL]
    assert cookies["_pre_tracker"]["set_before_consent"] and not cookies["_pre_tracker"]["declared"]
    assert cookies["pp_consent"]["states"] == [REJECT_ALL, ACCEPT_ALL]
    # The vendor's frame loads after "Accept all" only, and the portal is no third party.
    (vendor,) = report["third_party_hosts"]
    assert vendor["host"] == vendor_host and vendor["states"] == [ACCEPT_ALL]
    assert report["third_party_hosts_before_consent"] == []
    assert report["blocking"] is True
    assert done.screenshot and bytes(done.screenshot[:8]) == b"\x89PNG\r\n\x1a\n"
    evidence = {(f.kind, f.state): f.evidence for f in done.findings.all()}
    assert f"by the script at {host_site.origin}/" in evidence[("cookie_before_consent", NO_CHOICE)]


def test_the_crawl_follows_same_site_links_up_to_the_limit_and_never_off_site(scanned_site, host_site, vendor_site):
    done = scan(scanned_site, max_pages=2)
    assert done.report["pages"] == [host_site.origin + "/", host_site.origin + "/second.html"]
    assert vendor_site.hits["/elsewhere.html"] == 0
    assert host_site.hits["/third.html"] == 0


def test_a_scan_runs_in_a_process_that_already_drives_a_browser(browser, scanned_site, host_site):
    # `browser` keeps Playwright's sync API (and its event loop) running in this thread, as a shell or an
    # async caller would: the scan must still run, not fail with "Sync API inside the asyncio loop".
    page = browser.new_page()
    done = scan(scanned_site, max_pages=1)
    page.close()
    assert done.status == ScanStatus.DONE, done.error
    assert done.report["pages"] == [host_site.origin + "/"]


def test_robots_txt_is_honoured_unless_staff_override_it(scanned_site, host_site):
    from scanner.models import ScanSettings

    host_site.pages["/robots.txt"] = "User-agent: *\nDisallow: /second.html\n"
    host_site.pages["/sitemap.xml"] = f"<urlset><url><loc>{host_site.origin}/third.html</loc></url></urlset>"
    done = scan(scanned_site, max_pages=5)
    assert done.report["pages"] == [host_site.origin + "/", host_site.origin + "/third.html"]
    assert host_site.hits["/second.html"] == 0
    ScanSettings.objects.create(property=scanned_site, ignore_robots=True)
    again = scan(scanned_site, max_pages=5)
    assert host_site.origin + "/second.html" in again.report["pages"]


def test_a_scan_stopped_by_its_time_limit_resumes_from_its_checkpoint(scanned_site, host_site):
    started = services.start_scan(prop=scanned_site, actor=None, trigger=ScanTrigger.COMMAND, queue=False, max_pages=2)
    first = services.run_scan(scan=started, seconds=0.001)  # the first page, then the deadline has passed
    assert first.status == ScanStatus.RUNNING and first.pages_done == 1
    hits = host_site.hits["/"]
    finished = services.run_scan(scan=WebsiteScan.objects.get(pk=first.pk))
    assert finished.status == ScanStatus.DONE and finished.pages_done == 2
    assert host_site.hits["/"] == hits  # the first page was not visited again
    assert finished.report["pages"] == [host_site.origin + "/", host_site.origin + "/second.html"]


def test_findings_are_new_only_once(scanned_site):
    first = scan(scanned_site, max_pages=1)
    assert first.findings.filter(is_new=True).count() == first.findings.count() > 0
    second = scan(scanned_site, max_pages=1)
    assert second.report["previous_scan"] == first.pk
    assert second.findings.filter(is_new=True).count() == 0


def test_the_command_prints_one_json_object_and_exits_1_on_a_finding_before_consent(scanned_site, host_site, capfd):
    with pytest.raises(SystemExit) as exit_info:
        call_command("scan_website", scanned_site.key, "--url", host_site.origin + "/", "--max-pages", "1", "--json")
    assert exit_info.value.code == 1
    out = capfd.readouterr().out
    report = json.loads(out)
    assert {"pages", "cookies", "third_party_hosts_before_consent", "findings"} <= set(report)


def test_the_command_without_chromium_exits_69_and_says_what_to_install(db, settings):
    from django.core.management.base import CommandError

    from consent.models import Property

    prop = Property.objects.create(name="Shop", allowed_origins="https://www.shop.example.com")
    settings.SCANNER_CHROMIUM = "/nonexistent/chromium"
    with pytest.raises(CommandError) as error:
        call_command("scan_website", prop.key, "--json")
    assert error.value.returncode == 69
    assert "apt-get install chromium" in str(error.value)
    assert WebsiteScan.objects.get(property=prop).status == ScanStatus.FAILED


def test_the_command_refuses_an_unknown_website(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as error:
        call_command("scan_website", "no-such-key")
    assert error.value.returncode == 2


def test_scan_now_runs_as_a_task_and_mails_the_new_findings_to_the_officers(scanned_site, smtp_server, settings):
    from django.contrib.auth.models import Group

    from core.permissions import PRIVACY_OFFICER, sync_group_permissions
    from tests.factories import UserFactory

    sync_group_permissions()
    officer = UserFactory(is_staff=True, email="officer@example.com")
    officer.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    settings.SCANNER_MAX_PAGES = 1
    # Celery runs eagerly in the tests: the task starts once the request's transaction commits.
    started = services.start_scan(prop=scanned_site, actor=officer, trigger=ScanTrigger.STAFF)
    done = WebsiteScan.objects.get(pk=started.pk)
    assert done.status == ScanStatus.DONE and done.created_by == officer
    assert done.findings.filter(kind="cookie_before_consent", is_new=True).exists()
    (message,) = smtp_server.wait_for("officer@example.com")
    assert "_pre_tracker" in smtp_server.text(message)
