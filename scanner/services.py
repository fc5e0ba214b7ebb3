"""Website scans: start one, run it (resumably), keep its report and findings, alert, accept proposals."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from consent.models import Category, CookieDeclaration, Property
from consent.services import record_revision, save_configuration
from core.permissions import officer_emails, require_perm
from scanner import crawler, rules
from scanner.models import (
    FindingKind,
    ScanFinding,
    ScanSettings,
    ScanStatus,
    ScanTrigger,
    ScanVerb,
    WebsiteScan,
)

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

logger = logging.getLogger(__name__)

# A scan that has been "running" this long without progress lost its worker: the monthly job resumes it.
STALLED_AFTER = timedelta(minutes=30)


def settings_for(prop: Property) -> ScanSettings:
    """The website's scan settings (the defaults when staff never changed them; not saved)."""
    found = ScanSettings.objects.filter(property=prop).first()
    return found or ScanSettings(property=prop, max_pages=settings.SCANNER_MAX_PAGES)


def _check_urls(urls: list[str]) -> list[str]:
    out = []
    for url in urls:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(_("%(url)s is not an http(s) page address.") % {"url": url})
        out.append(url.strip())
    return out


@transaction.atomic
def start_scan(
    *,
    prop: Property,
    actor: AbstractBaseUser | None,
    trigger: str,
    urls: list[str] | None = None,
    max_pages: int | None = None,
    queue: bool = True,
) -> WebsiteScan:
    """Create a scan of a website and, unless ``queue`` is false, queue it after commit.

    From admin and the schedule, a scan visits the website's registered addresses only; the command line
    may name any http(s) page, and the crawl then stays on that page's origin.
    """
    require_perm(actor, "scanner.add_websitescan", _("You may not scan websites."))
    conf = settings_for(prop)
    if urls:
        if trigger != ScanTrigger.COMMAND:
            raise ValidationError(_("Only the command line may scan pages outside the website's addresses."))
        start = _check_urls(urls)
        origins = sorted({rules.origin_of(u) for u in start})
    else:
        origins = [o for o in (rules.origin_of(o + "/") for o in prop.origins()) if o]
        if not origins:
            raise ValidationError(
                _("%(site)s has no address to scan: add its origins (e.g. https://www.example.com) first.")
                % {"site": prop.name}
            )
        start = [o + p for o in origins for p in (conf.paths() or ["/"])]
    if trigger == ScanTrigger.STAFF:
        problem = crawler.chromium_problem()
        if problem:
            raise ValidationError(problem)
    scan = WebsiteScan.objects.create(
        property=prop,
        trigger=trigger,
        start_urls=start,
        allowed_origins=origins,
        max_pages=max(1, max_pages or conf.max_pages or settings.SCANNER_MAX_PAGES),
        ignore_robots=conf.ignore_robots,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    record_event(
        actor=actor or "scanner",
        obj=scan,
        verb=ScanVerb.REQUESTED,
        new={"pages": start, "max_pages": scan.max_pages, "started_by": scan.get_trigger_display()},
    )
    if queue:
        transaction.on_commit(lambda: _queue(scan.pk), robust=True)
    return scan


def _queue(scan_pk: int) -> None:
    from scanner.tasks import run_scan_task

    run_scan_task.delay(scan_pk)


def _in_own_thread(fn):
    # Playwright's sync API runs an event loop in its thread: it refuses to start in a thread that already runs
    # one (an async caller, a shell, another browser in the same process), and Django refuses database calls in
    # it. The crawl runs in a short-lived thread of its own, and its checkpoints are written from another.
    def run():
        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def _plan(scan: WebsiteScan, deadline: float | None) -> crawler.CrawlPlan:
    from consent.banner import banner_texts

    texts = banner_texts().values()
    return crawler.CrawlPlan(
        start_urls=list(scan.start_urls),
        allowed_origins=set(scan.allowed_origins),
        max_pages=scan.max_pages,
        accept_names=sorted({t["acceptAll"] for t in texts}),
        reject_names=sorted({t["rejectAll"] for t in texts}),
        respect_robots=not scan.ignore_robots,
        host_interval=settings.SCANNER_HOST_INTERVAL_SECONDS,
        page_timeout=settings.SCANNER_PAGE_TIMEOUT_SECONDS,
        cost_pages=settings.SCANNER_COST_PAGES,
        deadline=deadline,
    )


def run_scan(*, scan: WebsiteScan, seconds: float | None = None) -> WebsiteScan:
    """Crawl (or go on crawling) a scan; checkpoint every page; on completion write the report and findings.

    Returns the scan: DONE, FAILED, or still RUNNING when ``seconds`` ran out with pages left (resume it).
    Raises crawler.ChromiumMissing (after marking the scan failed) when there is no browser.
    """
    WebsiteScan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.RUNNING, started_at=scan.started_at or timezone.now(), updated_at=timezone.now()
    )
    scan.refresh_from_db()
    deadline = time.monotonic() + seconds if seconds else None
    plan = _plan(scan, deadline)

    def checkpoint(progress: dict, shot: bytes | None) -> None:
        fields = {"progress": progress, "pages_done": len(progress.get("pages", {})), "updated_at": timezone.now()}
        if shot:
            fields["screenshot"] = shot
        _in_own_thread(lambda: WebsiteScan.objects.filter(pk=scan.pk).update(**fields))

    progress = dict(scan.progress or {})
    try:
        progress = _in_own_thread(lambda: crawler.crawl(plan, progress=progress, checkpoint=checkpoint))
    except crawler.ChromiumMissing as exc:
        fail_scan(scan=scan, error=str(exc))
        raise
    except Exception as exc:
        logger.exception("Scan %s failed", scan.pk)
        fail_scan(scan=scan, error=f"{type(exc).__name__}: {exc}")
        return scan
    scan.refresh_from_db()
    scan.progress = progress
    scan.pages_done = len(progress.get("pages", {}))
    if not progress.get("complete"):
        scan.save(update_fields=["progress", "pages_done", "updated_at"])
        return scan
    return finish_scan(scan=scan)


def declarations_of(prop: Property) -> list[rules.Declared]:
    return [
        rules.Declared(
            pk=d.pk, name=d.name, is_regex=d.is_regex, category=d.category.key, provider=d.provider, duration=d.duration
        )
        for d in CookieDeclaration.objects.filter(property=prop).select_related("category")
    ]


def previous_scan(scan: WebsiteScan) -> WebsiteScan | None:
    return (
        WebsiteScan.objects.filter(property_id=scan.property_id, status=ScanStatus.DONE, pk__lt=scan.pk)
        .order_by("-pk")
        .first()
    )


def portal_origins() -> set[str]:
    return {rules.origin_of(settings.SITE_URL + "/")}


@transaction.atomic
def finish_scan(*, scan: WebsiteScan) -> WebsiteScan:
    """Turn a finished crawl into its report and findings, marked new against the previous scan; alert."""
    prop = scan.property
    conf = settings_for(prop)
    pages = (scan.progress or {}).get("pages", {})
    banner_origins = {
        rules.origin_of(r)
        for seen in pages.values()
        for obs in (seen.get("states") or {}).values()
        for r in obs.get("requests", [])
        if f"/consent/{prop.key}/banner.js" in r
    }
    report = rules.build_report(
        pages=pages,
        declarations=declarations_of(prop),
        first_party_origins=set(scan.allowed_origins),
        portal_origins=portal_origins() | banner_origins,
        necessary_hosts=conf.hosts(),
    )
    before = previous_scan(scan)
    rules.mark_new(report["findings"], before.report.get("findings", []) if before and before.report else None)
    report["banner_cost"] = [{"page": url, **seen["cost"]} for url, seen in pages.items() if seen.get("cost")]
    report["website"] = {"key": prop.key, "name": prop.name}
    report["scan"] = scan.pk
    report["previous_scan"] = before.pk if before else None
    report["new_findings"] = sum(1 for f in report["findings"] if f["new"])
    scan.report = report
    scan.blocking = report["blocking"]
    scan.status = ScanStatus.DONE
    scan.finished_at = timezone.now()
    scan.save()
    scan.findings.all().delete()
    ScanFinding.objects.bulk_create(
        [
            ScanFinding(
                scan=scan,
                kind=f["kind"],
                subject=f["subject"][:300],
                page=f["page"][:500],
                state=f["state"],
                detail=f["detail"],
                evidence=f["evidence"] or "",
                is_new=f["new"],
                proposal=f["proposal"],
            )
            for f in report["findings"]
        ]
    )
    record_event(
        actor="scanner",
        obj=scan,
        verb=ScanVerb.FINISHED,
        new={
            "pages": scan.pages_done,
            "findings": len(report["findings"]),
            "new_findings": report["new_findings"],
            "before_consent": scan.blocking,
        },
    )
    if report["new_findings"] and scan.trigger != ScanTrigger.COMMAND:
        transaction.on_commit(lambda: _queue_alert(scan.pk), robust=True)
    return scan


def fail_scan(*, scan: WebsiteScan, error: str) -> WebsiteScan:
    """Mark a scan as failed with what went wrong (the pages done so far stay)."""
    WebsiteScan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )
    scan.refresh_from_db()
    record_event(actor="scanner", obj=scan, verb=ScanVerb.FAILED, note=error[:500])
    return scan


def _queue_alert(scan_pk: int) -> None:
    from scanner.tasks import alert_new_findings_task

    alert_new_findings_task.delay(scan_pk)


def alert_new_findings(*, scan_pk: int) -> int:
    """E-mail the privacy officers the findings new since the website's last scan; returns the recipients."""
    from core.mail import send_templated_mail

    scan = WebsiteScan.objects.select_related("property").filter(pk=scan_pk).first()
    if scan is None:
        return 0
    new = list(scan.findings.filter(is_new=True))
    recipients = officer_emails()
    if not new or not recipients:
        return 0
    send_templated_mail(
        to=recipients,
        template="mail/scanner/new_findings",
        context={
            "website": scan.property.name,
            "findings": new[:30],
            "more": max(0, len(new) - 30),
            "count": len(new),
            "blocking": any(f.kind in rules.BLOCKING_KINDS for f in new),
            "admin_url": settings.SITE_URL + reverse("admin:scanner_websitescan_change", args=[scan.pk]),
        },
    )
    return len(recipients)


def continue_scan(*, scan_pk: int) -> WebsiteScan | None:
    """Run a queued or interrupted scan for at most SCANNER_TASK_SECONDS; queue the rest as a new task."""
    scan = WebsiteScan.objects.filter(pk=scan_pk).select_related("property").first()
    if scan is None or scan.status in (ScanStatus.DONE, ScanStatus.FAILED):
        return scan
    try:
        scan = run_scan(scan=scan, seconds=settings.SCANNER_TASK_SECONDS)
    except crawler.ChromiumMissing:
        return scan  # marked failed with the install hint; nothing to retry
    if scan.status == ScanStatus.RUNNING:
        close_old_connections()
        transaction.on_commit(lambda: _queue(scan.pk), robust=True)
    return scan


def resume_scan(*, scan: WebsiteScan, actor: AbstractBaseUser | None) -> WebsiteScan:
    """Queue again a scan that stopped before its end (a worker crash or restart); it goes on from its checkpoint."""
    require_perm(actor, "scanner.change_websitescan", _("You may not resume scans."))
    if scan.status == ScanStatus.DONE:
        raise ValidationError(_("This scan has finished."))
    WebsiteScan.objects.filter(pk=scan.pk).update(status=ScanStatus.QUEUED, error="")
    record_event(actor=actor or "scanner", obj=scan, verb=ScanVerb.REQUESTED, note=_("Resumed from its checkpoint."))
    transaction.on_commit(lambda: _queue(scan.pk), robust=True)
    scan.refresh_from_db()
    return scan


def scan_websites(*, now=None) -> list[WebsiteScan]:
    """The monthly job: scan every website that has addresses and monthly scans on; resume stalled scans."""
    now = now or timezone.now()
    started = []
    for stalled in WebsiteScan.objects.filter(
        status__in=[ScanStatus.RUNNING, ScanStatus.QUEUED], updated_at__lt=now - STALLED_AFTER
    ):
        resume_scan(scan=stalled, actor=None)
    busy = set(
        WebsiteScan.objects.filter(status__in=[ScanStatus.RUNNING, ScanStatus.QUEUED]).values_list(
            "property_id", flat=True
        )
    )
    for prop in Property.objects.all():
        conf = settings_for(prop)
        if not prop.origins() or not conf.monthly or prop.pk in busy:
            continue
        started.append(start_scan(prop=prop, actor=None, trigger=ScanTrigger.SCHEDULE))
    return started


@transaction.atomic
def save_scan_settings(*, obj: ScanSettings, actor: AbstractBaseUser | None) -> ScanSettings:
    """Save a website's scan settings as staff edited them, with an audit row."""
    require_perm(actor, "scanner.change_scansettings", _("You may not change scan settings."))
    from audit.services import audited_fields, changes, snapshot

    fields = audited_fields(ScanSettings)
    stored = ScanSettings.objects.filter(pk=obj.pk).first() if obj.pk else None
    before = snapshot(stored, fields) if stored else {}
    obj.save()
    old, new = changes(before, snapshot(obj, fields))
    if new:
        record_event(actor=actor, obj=obj, verb=ScanVerb.SETTINGS_CHANGED, old=old, new=new)
    return obj


@transaction.atomic
def accept_proposal(*, finding: ScanFinding, actor: AbstractBaseUser | None) -> CookieDeclaration:
    """Declare an undeclared cookie as proposed; a non-necessary one bumps the revision so visitors are asked again."""
    require_perm(actor, "consent.add_cookiedeclaration", _("You may not declare cookies."))
    require_perm(actor, "scanner.change_scanfinding", _("You may not act on scan findings."))
    finding = ScanFinding.objects.select_for_update().select_related("scan__property").get(pk=finding.pk)
    if finding.kind not in (FindingKind.UNDECLARED_COOKIE, FindingKind.UNDECLARED_STORAGE) or not finding.proposal:
        raise ValidationError(_("This finding has no proposed declaration."))
    if finding.declaration_id:
        raise ValidationError(_("This proposal was already accepted."))
    p = finding.proposal
    prop = finding.scan.property
    category = Category.objects.filter(key=p["category"]).first()
    if category is None:
        raise ValidationError(_("The proposed category %(c)s does not exist here.") % {"c": p["category"]})
    if CookieDeclaration.objects.filter(property=prop, name=p["name"]).exists():
        raise ValidationError(_("%(name)s is already declared for this website.") % {"name": p["name"]})
    declaration = CookieDeclaration(
        property=prop,
        category=category,
        name=p["name"],
        is_regex=bool(p.get("is_regex")),
        provider=p["provider"],
        purpose=p["purpose"],
        duration=p["duration"],
        party=p.get("party") or "first",
    )
    save_configuration(obj=declaration, actor=actor)
    material = category.key != rules.NECESSARY
    record_revision(
        prop=prop,
        note=_("Declared %(name)s (%(provider)s, %(category)s), found by a website scan.")
        % {"name": p["name"], "provider": p["provider"], "category": category},
        actor=actor,
        material=material,
    )
    finding.declaration = declaration
    finding.save(update_fields=["declaration"])
    record_event(actor=actor, obj=finding.scan, verb=ScanVerb.PROPOSAL_ACCEPTED, new={"declared": p["name"]})
    return declaration
