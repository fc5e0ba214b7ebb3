"""Staff screens for website scans: scan now, the scans with their evidence, proposals accepted in one click."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditTrailAdminMixin
from consent.models import Property
from core.permissions import require_perm
from scanner import crawler, selectors, services
from scanner.models import ScanFinding, ScanSettings, ScanTrigger, WebsiteScan
from scanner.rules import STATE_LABELS


@admin.register(ScanSettings)
class ScanSettingsAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = ("property", "max_pages", "monthly", "ignore_robots")
    fields = ("property", "start_paths", "max_pages", "monthly", "ignore_robots", "necessary_hosts")

    def get_readonly_fields(self, request, obj=None):
        return ("property",) if obj and obj.pk else ()

    def save_model(self, request, obj, form, change):
        services.save_scan_settings(obj=obj, actor=request.user)


def _state(value: str) -> str:
    return STATE_LABELS.get(value, "") or "-"


class FindingInline(admin.TabularInline):
    model = ScanFinding
    extra = 0
    can_delete = False
    fields = ("what", "subject", "in_state", "page", "detail", "evidence", "is_new", "proposed")
    readonly_fields = fields
    verbose_name_plural = _("findings")

    @admin.display(description=_("finding"))
    def what(self, obj):
        return obj.get_kind_display()

    @admin.display(description=_("consent state"))
    def in_state(self, obj):
        return _state(obj.state)

    @admin.display(description=_("proposed declaration"))
    def proposed(self, obj):
        p = obj.proposal
        if not p:
            return "-"
        text = f"{p['provider']}, {p['category']}, {p['duration']}: {p['purpose']}"
        if obj.declaration_id:
            return format_html("{}<br><strong>{}</strong>", text, _("Declared."))
        return format_html(
            '{}<br><a class="button" href="{}">{}</a>',
            text,
            reverse("admin:scanner_websitescan_accept", args=[obj.pk]),
            _("Declare as proposed"),
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebsiteScan)
class WebsiteScanAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = (
        "property",
        "status",
        "trigger",
        "pages_done",
        "findings_count",
        "new_count",
        "blocking",
        "finished_at",
    )
    list_filter = ("property", "status", "blocking")
    inlines = [FindingInline]
    actions = ["resume"]
    fields = (
        "property",
        "status",
        "trigger",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "pages_done",
        "max_pages",
        "blocking",
        "error",
        "summary",
        "screenshot_image",
        "banner_cost",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.scans_with_counts()

    @admin.display(description=_("findings"), ordering="n_findings")
    def findings_count(self, obj):
        return obj.n_findings

    @admin.display(description=_("new since the last scan"), ordering="n_new")
    def new_count(self, obj):
        return obj.n_new

    @admin.display(description=_("what the scan saw"))
    def summary(self, obj):
        r = obj.report
        if not r:
            return _("No report yet.")
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    c["name"],
                    c["domain"],
                    c["category"] or _("not declared"),
                    ", ".join(_state(s) for s in c["states"]),
                    "-" if c["lifetime_days"] is None else c["lifetime_days"],
                    c["party"],
                )
                for c in r.get("cookies", [])
            ),
        )
        hosts = ", ".join(h["host"] for h in r.get("third_party_hosts", [])) or "-"
        return format_html(
            "<p>{}: {}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            '</thead><tbody>{}</tbody></table><p>{}: {}</p><p><a href="{}">{}</a></p>',
            _("Pages"),
            len(r.get("pages", [])),
            _("Cookie"),
            _("Domain"),
            _("Category"),
            _("Seen"),
            _("Lifetime (days)"),
            _("Party"),
            rows,
            _("Third parties contacted"),
            hosts,
            reverse("admin:scanner_websitescan_report", args=[obj.pk]),
            _("Download the report (JSON)"),
        )

    @admin.display(description=_("the page before any choice"))
    def screenshot_image(self, obj):
        if not obj.screenshot:
            return "-"
        return format_html(
            '<img src="{}" alt="{}" width="640">',
            reverse("admin:scanner_websitescan_screenshot", args=[obj.pk]),
            _("The first page with the banner open"),
        )

    @admin.display(description=_("the banner's cost on the page"))
    def banner_cost(self, obj):
        rows = (obj.report or {}).get("banner_cost") or []
        if not rows:
            return "-"
        return format_html_join(
            "",
            "<p>{}: LCP {} ms → {} ms, CLS +{}, {} {} ms</p>",
            (
                (
                    r["page"],
                    (r.get("without_banner") or {}).get("lcp_ms", "?"),
                    (r.get("with_banner") or {}).get("lcp_ms", "?"),
                    r.get("cls_added", "?"),
                    _("buttons usable after"),
                    (r.get("with_banner") or {}).get("banner_interactive_ms", "?"),
                )
                for r in rows
            ),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Resume the selected scans from where they stopped"), permissions=["resume"])
    def resume(self, request, queryset):
        for scan in queryset:
            try:
                services.resume_scan(scan=scan, actor=request.user)
            except ValidationError as exc:
                messages.warning(request, f"{scan}: {' '.join(exc.messages)}")

    def has_resume_permission(self, request):
        return request.user.has_perm("scanner.change_websitescan")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("scan-now/<int:property_pk>/", view(self.scan_now_view), name="scanner_websitescan_scan_now"),
            path("<int:pk>/screenshot.png", view(self.screenshot_view), name="scanner_websitescan_screenshot"),
            path("<int:pk>/report.json", view(self.report_view), name="scanner_websitescan_report"),
            path("finding/<int:pk>/accept/", view(self.accept_view), name="scanner_websitescan_accept"),
            *super().get_urls(),
        ]

    def scan_now_view(self, request, property_pk: int):
        """Staff scan one website now: its registered addresses only, never an address typed here."""
        require_perm(request.user, "scanner.add_websitescan", _("You may not scan websites."))
        prop = get_object_or_404(Property, pk=property_pk)
        problem = crawler.chromium_problem()
        if request.method == "POST" and not problem:
            try:
                scan = services.start_scan(prop=prop, actor=request.user, trigger=ScanTrigger.STAFF)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The scan has started; its report appears here when it is done."))
                return redirect("admin:scanner_websitescan_change", scan.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Scan %(site)s now") % {"site": prop.name},
            "website": prop,
            "origins": prop.origins(),
            "problem": problem,
            "last": selectors.last_scans(prop=prop)[:5],
        }
        return render(request, "admin/scanner/scan_now.html", context)

    def screenshot_view(self, request, pk: int):
        scan = get_object_or_404(WebsiteScan, pk=pk)
        if not self.has_view_permission(request, scan) or not scan.screenshot:
            raise Http404
        return HttpResponse(bytes(scan.screenshot), content_type="image/png")

    def report_view(self, request, pk: int):
        scan = get_object_or_404(WebsiteScan, pk=pk)
        if not self.has_view_permission(request, scan) or not scan.report:
            raise Http404
        response = JsonResponse(scan.report, json_dumps_params={"ensure_ascii": False, "indent": 1})
        response["Content-Disposition"] = f'attachment; filename="scan-{scan.property.key}-{scan.pk}.json"'
        return response

    def accept_view(self, request, pk: int):
        """Declare an undeclared cookie as the shipped database proposes, after one confirmation."""
        finding = get_object_or_404(ScanFinding.objects.select_related("scan__property"), pk=pk)
        if not request.user.has_perm("consent.add_cookiedeclaration"):
            raise PermissionDenied
        if request.method == "POST":
            try:
                services.accept_proposal(finding=finding, actor=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("%(name)s is declared.") % {"name": finding.proposal["name"]})
            return redirect("admin:scanner_websitescan_change", finding.scan_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Declare %(name)s") % {"name": finding.subject},
            "finding": finding,
            "proposal": finding.proposal,
            "material": (finding.proposal or {}).get("category") != "necessary",
        }
        return render(request, "admin/scanner/accept.html", context)
