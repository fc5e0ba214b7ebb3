"""Website scans: what a crawl of a website found in each consent state, kept per run with its evidence."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.models import CookieDeclaration, Property


class ScanSettings(models.Model):
    """How a website is scanned; a website without a row is scanned with the defaults."""

    property = models.OneToOneField(
        Property, on_delete=models.CASCADE, related_name="scan_settings", verbose_name=_("website")
    )
    start_paths = models.TextField(
        _("pages to start from"),
        blank=True,
        help_text=_(
            "One path per line (e.g. /shop/), on each of the website's addresses; empty: the home page. "
            "The sitemap and the links on these pages follow, up to the page limit."
        ),
    )
    max_pages = models.PositiveIntegerField(_("pages per scan at most"), default=50)
    ignore_robots = models.BooleanField(
        _("ignore robots.txt"),
        default=False,
        help_text=_("Visit pages that the website's robots.txt asks crawlers to leave alone."),
    )
    necessary_hosts = models.TextField(
        _("third-party hosts needed to run the site"),
        blank=True,
        help_text=_(
            "One host per line (e.g. cdn.example.net): hosts the pages may contact before a choice, because "
            "the website cannot work without them. Any other host contacted before consent is a finding."
        ),
    )
    monthly = models.BooleanField(_("scan every month"), default=True)

    class Meta:
        verbose_name = _("scan settings")
        verbose_name_plural = _("scan settings")

    def __str__(self) -> str:
        return str(self.property)

    def hosts(self) -> list[str]:
        return [h.strip().lower() for h in self.necessary_hosts.splitlines() if h.strip()]

    def paths(self) -> list[str]:
        return [p.strip() for p in self.start_paths.splitlines() if p.strip().startswith("/")]


class ScanStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Scanning")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Could not finish")


class ScanTrigger(models.TextChoices):
    STAFF = "staff", _("Scan now, by staff")
    SCHEDULE = "schedule", _("Monthly scan")
    COMMAND = "command", _("Command line")


class WebsiteScan(models.Model):
    """One scan of a website: its progress (for resuming), the report and a screenshot before any choice."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="scans", verbose_name=_("website"))
    status = models.CharField(_("status"), max_length=10, choices=ScanStatus.choices, default=ScanStatus.QUEUED)
    trigger = models.CharField(_("started by"), max_length=10, choices=ScanTrigger.choices)
    start_urls = models.JSONField(_("pages to start from"), default=list)
    allowed_origins = models.JSONField(_("addresses the scan may visit"), default=list)
    max_pages = models.PositiveIntegerField(_("pages at most"))
    ignore_robots = models.BooleanField(_("robots.txt ignored"), default=False)
    # The checkpoint: pages still to visit and what each visited page showed, so a scan resumes where it stopped.
    progress = models.JSONField(default=dict, editable=False)
    pages_done = models.PositiveIntegerField(_("pages scanned"), default=0)
    report = models.JSONField(_("report"), null=True, blank=True, editable=False)
    screenshot = models.BinaryField(_("screenshot before any choice"), null=True, blank=True, editable=False)
    error = models.TextField(_("what went wrong"), blank=True)
    blocking = models.BooleanField(_("something runs before consent"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("requested by")
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last progress"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("website scan")
        verbose_name_plural = _("website scans")
        indexes = [models.Index(fields=["property", "-created_at"])]

    def __str__(self) -> str:
        when = self.finished_at or self.created_at
        return f"{self.property} {when:%Y-%m-%d %H:%M}" if when else str(self.property)


class FindingKind(models.TextChoices):
    COOKIE_BEFORE_CONSENT = "cookie_before_consent", _("Cookie set before consent")
    STORAGE_BEFORE_CONSENT = "storage_before_consent", _("Browser storage written before consent")
    TRACKER_BEFORE_CONSENT = "tracker_before_consent", _("Third party contacted before consent")
    UNDECLARED_COOKIE = "undeclared_cookie", _("Cookie not declared")
    UNDECLARED_STORAGE = "undeclared_storage", _("Browser storage not declared")
    STALE_DECLARATION = "stale_declaration", _("Declared cookie never seen")
    LIFETIME_LONGER_THAN_DECLARED = "lifetime_longer_than_declared", _("Cookie lives longer than declared")
    LIFETIME_OVER_13_MONTHS = "lifetime_over_13_months", _("Tracker cookie lives longer than 13 months")
    BANNER_NOT_SHOWN = "banner_not_shown", _("Banner not shown")


# The kinds that make `scan_website` exit non-zero: something that needs consent ran without it.
BLOCKING_KINDS = frozenset(
    {FindingKind.COOKIE_BEFORE_CONSENT, FindingKind.STORAGE_BEFORE_CONSENT, FindingKind.TRACKER_BEFORE_CONSENT}
)


class ScanFinding(models.Model):
    """One thing a scan found wrong, with the page, the consent state and the evidence."""

    scan = models.ForeignKey(WebsiteScan, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("finding"), max_length=40, choices=FindingKind.choices)
    subject = models.CharField(_("cookie, key or host"), max_length=300)
    page = models.CharField(_("page"), max_length=500, blank=True)
    state = models.CharField(_("consent state"), max_length=20, blank=True)
    detail = models.TextField(_("detail"))
    evidence = models.TextField(_("evidence"), blank=True)
    is_new = models.BooleanField(_("new since the last scan"), default=False)
    proposal = models.JSONField(_("proposed declaration"), null=True, blank=True)
    declaration = models.ForeignKey(
        CookieDeclaration,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("declaration accepted"),
    )

    class Meta:
        ordering = ["scan", "kind", "subject", "pk"]
        verbose_name = _("scan finding")
        verbose_name_plural = _("scan findings")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def fingerprint(self) -> tuple[str, str, str]:
        return (self.kind, self.subject, self.state)


class ScanVerb(models.TextChoices):
    REQUESTED = "scan_requested", _("Scan requested")
    FINISHED = "scan_finished", _("Scan finished")
    FAILED = "scan_failed", _("Scan could not finish")
    SETTINGS_CHANGED = "scan_settings_changed", _("Scan settings changed")
    PROPOSAL_ACCEPTED = "proposal_accepted", _("Proposed cookie declaration accepted")
