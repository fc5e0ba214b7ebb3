from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditTrailAdminMixin
from core.permissions import require_perm
from policies import promises, selectors, services
from policies.models import (
    ChangeNotice,
    NoticeDelivery,
    PolicyAcceptance,
    PolicyDocument,
    PolicyVersion,
    VersionStatus,
)
from policies.rendering import diff_lines, render_markdown


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are evidence: visible, never edited or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = ("title", "kind", "in_force")
    readonly_fields = ("created_at",)

    def save_model(self, request, obj, form, change):
        services.save_document(document=obj, actor=request.user)

    @admin.display(description=_("in force"))
    def in_force(self, obj):
        version = selectors.get_version_in_force(kind=obj.kind)
        return f"v{version.number}" if version else "—"

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyVersion)
class PolicyVersionAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "status", "is_material", "effective_at", "published_at", "notice_progress")
    list_filter = ("document", "status", "is_material")
    readonly_fields = (
        "number",
        "status",
        "published_at",
        "published_by",
        "superseded_at",
        "created_by",
        "notice_progress",
        "promises",
        "preview",
    )
    fields = ("document", "number", "status", "is_material", "effective_at", "summary", "body", *readonly_fields[2:])
    actions = ["publish_selected", "unschedule_selected"]

    change_form_template = "admin/policies/policyversion/change_form.html"

    class Media:
        css = {"all": ("policies/policies.css",)}

    def get_urls(self):
        def view(fn):
            return self.admin_site.admin_view(fn)

        return [
            path("<path:object_id>/notice/", view(self.notice_send_view), name="policies_policyversion_notice"),
            path(
                "<path:object_id>/notice/report/",
                view(self.notice_report_view),
                name="policies_policyversion_notice_report",
            ),
            path(
                "<path:object_id>/notice/progress/",
                view(self.notice_progress_view),
                name="policies_policyversion_notice_progress",
            ),
            *super().get_urls(),
        ]

    def _may_send_notice(self, request, version) -> bool:
        return (
            request.user.has_perm("policies.change_policyversion")
            and version.is_material
            and version.status in (VersionStatus.SCHEDULED, VersionStatus.IN_FORCE)
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        extra = {}
        if version is not None:
            extra = {
                "may_send_notice": self._may_send_notice(request, version),
                "notice": selectors.get_notice(version=version),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def _version_or_404(self, request, object_id, perm: str):
        require_perm(request.user, perm, _("You may not see or send change notices."))
        version = self.get_object(request, object_id)
        if version is None:
            raise Http404
        return version

    def notice_send_view(self, request, object_id):
        """GET: who will be mailed, and how many; POST: send the notice to them, then its report."""
        version = self._version_or_404(request, object_id, "policies.change_policyversion")
        back = reverse("admin:policies_policyversion_change", args=[version.pk])
        if request.method == "POST":
            try:
                services.send_change_notice_now(version=version, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.WARNING)
                return HttpResponseRedirect(back)
            return HttpResponseRedirect(reverse("admin:policies_policyversion_notice_report", args=[version.pk]))
        waiting = selectors.list_notice_waiting(version=version)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send the change notice"),
            "version": version,
            "opts": self.model._meta,
            "waiting": waiting.count(),
            "examples": list(waiting.values_list("email", flat=True)[:5]),
            "notice": selectors.get_notice(version=version),
            "may_send": self._may_send_notice(request, version),
            "back": back,
        }
        return render(request, "admin/policies/notice_send.html", context)

    def notice_report_view(self, request, object_id):
        """The one report of a version's change notice: told, could not be told and why, still to tell."""
        version = self._version_or_404(request, object_id, "policies.view_policyversion")
        notice = selectors.get_notice(version=version)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change notice report"),
            "version": version,
            "opts": self.model._meta,
            "report": selectors.notice_report(notice=notice) if notice else None,
            "back": reverse("admin:policies_policyversion_change", args=[version.pk]),
        }
        return render(request, "admin/policies/notice_report.html", context)

    def notice_progress_view(self, request, object_id):
        """The notice's progress as JSON, for the progress bar on its report."""
        version = self._version_or_404(request, object_id, "policies.view_policyversion")
        notice = selectors.get_notice(version=version)
        if notice is None:
            raise Http404
        return JsonResponse(selectors.notice_progress(notice=notice))  # admin_view already marks it never cached

    def get_form(self, request, obj=None, **kwargs):
        # Where staff write the text, they learn how it can state a retention period that stays true.
        kwargs.setdefault(
            "help_texts",
            {
                "body": _(
                    "Markdown. Write {{ retention:traffic-logs }} (a retention policy's name) where the text "
                    "says how long something is kept: readers see the period as it is enforced."
                )
            },
        )
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # Published text is frozen: what people were told and accepted stays on record.
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return list(self.fields)
        if obj is not None:
            return [*self.readonly_fields, "document"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.create_version(
                document=obj.document,
                body=obj.body,
                summary=obj.summary,
                is_material=obj.is_material,
                actor=request.user,
            )
            if obj.effective_at:
                services.update_draft(version=created, actor=request.user, effective_at=obj.effective_at)
            obj.pk, obj.number, obj.status = created.pk, created.number, created.status
            obj.created_at = created.created_at
            obj._state.adding = False
            return
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        try:
            services.update_draft(version=obj, actor=request.user, **fields)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)

    @admin.display(description=_("preview"))
    def preview(self, obj):
        """The text as readers will see it (sanitised), and what changes against the version before."""
        if obj is None or obj.pk is None:
            return "—"
        previous = selectors.get_compared_version(version=obj)
        html = render_to_string(
            "admin/policies/preview.html",
            {
                "body": render_markdown(obj.body),
                "previous": previous,
                "diff": diff_lines(previous.body, obj.body) if previous else [],
            },
        )
        return mark_safe(html)  # noqa: S308 - a template's autoescaped output around nh3-sanitised Markdown

    @admin.display(description=_("retention periods stated"))
    def promises(self, obj):
        """Where the text promises a retention period other than the one enforced."""
        if obj is None or obj.pk is None:
            return "—"
        mismatches = promises.find_mismatches(obj.body)
        if not mismatches:
            return _("No stated period disagrees with the retention enforced.")
        return mark_safe(  # noqa: S308 - a template's autoescaped output
            render_to_string("admin/policies/promises.html", {"mismatches": mismatches})
        )

    @admin.display(description=_("change notice"))
    def notice_progress(self, obj):
        notice = getattr(obj, "notice", None)
        if notice is None:
            return "—"
        return format_html(
            '<a href="{}">{}: {}</a>',
            reverse("admin:policies_policyversion_notice_report", args=[obj.pk]),
            notice.get_status_display(),
            _("%(told)s of %(total)s told") % {"told": notice.sent, "total": notice.total},
        )

    @admin.action(
        description=_("Publish (in force at once, or scheduled for its effective date)"), permissions=["change"]
    )
    def publish_selected(self, request, queryset):
        for version in queryset.order_by("number"):
            try:
                version = services.publish_version(version=version, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{version}: {' '.join(exc.messages)}", messages.ERROR)
                continue
            note = _(" Change notice queued.") if version.is_material else ""
            self.message_user(request, f"{version}: {version.get_status_display()}.{note}", messages.SUCCESS)

    @admin.action(description=_("Back to draft (scheduled versions without a notice)"), permissions=["change"])
    def unschedule_selected(self, request, queryset):
        for version in queryset:
            try:
                services.unschedule_version(version=version, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{version}: {' '.join(exc.messages)}", messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.delete_draft(version=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for version in queryset:
            services.delete_draft(version=version, actor=request.user)


@admin.register(PolicyAcceptance)
class PolicyAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("user", "version", "accepted_at", "ip")
    list_filter = ("version__document", "version")
    search_fields = ("user__email",)
    date_hierarchy = "accepted_at"
    list_select_related = ("user", "version__document")


@admin.register(ChangeNotice)
class ChangeNoticeAdmin(ReadOnlyAdmin):
    list_display = (
        "version", "status", "progress", "total", "sent", "failed", "batches", "started_at", "finished_at", "report",
    )  # fmt: skip
    list_filter = ("status",)
    readonly_fields = (
        "version",
        "status",
        "batch_size",
        "total",
        "sent",
        "failed",
        "batches",
        "created_at",
        "started_at",
        "finished_at",
    )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The stock page would list the notice's counters field by field; its one readable report is on the
        # version (which checks that the person may see policy versions).
        notice = self.get_object(request, object_id)
        if notice is None or not self.has_view_permission(request, notice):
            raise Http404
        return HttpResponseRedirect(reverse("admin:policies_policyversion_notice_report", args=[notice.version_id]))

    @admin.display(description=_("Change notice report"))
    def report(self, obj):
        # The one readable report lives with its version.
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:policies_policyversion_notice_report", args=[obj.version_id]),
            _("Change notice report"),
        )

    @admin.display(description=_("progress"))
    def progress(self, obj):
        percent = round(100 * obj.sent / obj.total) if obj.total else (100 if obj.status == "done" else 0)
        return format_html('<progress max="100" value="{}">{}%</progress> {}%', percent, percent, percent)


@admin.register(NoticeDelivery)
class NoticeDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("notice", "user", "status", "sent_at", "error")
    list_filter = ("status", "notice")
    search_fields = ("user__email",)
    list_select_related = ("notice__version__document", "user")
