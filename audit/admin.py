"""The trail in admin: privacy officers filter all of it; each audited record links to its own events."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from audit import presentation, selectors
from audit.models import AuditEvent
from audit.verbs import registered_verbs, verb_choices

# Models whose admin shows an "Audit trail" page; the trail's "kind of record" filter lists these.
AUDITED_MODELS: set[type] = set()


class AuditTrailAdminMixin:
    """Adds an "Audit trail" page (and a link on the change page) listing the events of one record."""

    audit_trail_template = "admin/audit/object_trail.html"
    # Also hand the rows to the change page (as ``audit_trail_rows``), for a template that shows them there.
    audit_trail_on_change_page = False

    def get_urls(self):
        AUDITED_MODELS.add(self.model)
        info = self.model._meta.app_label, self.model._meta.model_name
        extra = [
            path(
                "<path:object_id>/audit/",
                self.admin_site.admin_view(self.audit_trail_view),
                name=f"{info[0]}_{info[1]}_audit",
            )
        ]
        return extra + super().get_urls()

    def audit_trail_events(self, obj):
        """The events shown on the record's page (override to add related records' events)."""
        return selectors.list_object_events(obj=obj)

    def audit_trail_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": _("Audit trail: %(record)s") % {"record": obj},
            "subtitle": None,
            "object": obj,
            "opts": opts,
            "rows": [_row(e) for e in self.audit_trail_events(obj)],
            "change_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
        }
        return TemplateResponse(request, self.audit_trail_template, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        opts = self.model._meta
        extra_context["audit_trail_url"] = reverse(f"admin:{opts.app_label}_{opts.model_name}_audit", args=[object_id])
        if self.audit_trail_on_change_page:
            obj = self.get_object(request, object_id)
            if obj is not None:
                extra_context["audit_trail_rows"] = [_row(e) for e in self.audit_trail_events(obj)]
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


def _row(event: AuditEvent) -> dict:
    return {
        "event": event,
        "who": event.actor_label or event.get_actor_kind_display(),
        "who_kind": event.get_actor_kind_display(),
        "what": presentation.event_verb(event),
        "changes": presentation.change_lines(event),
    }


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL the unfiltered trail is counted from the planner's estimate, not by reading every row."""

    estimate_above = 10_000  # below this, counting is cheap and exact

    @cached_property
    def count(self):
        qs = self.object_list
        if connection.vendor == "postgresql" and not qs.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [AuditEvent._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] > self.estimate_above:
                return row[0]
        return super().count


class VerbFilter(admin.SimpleListFilter):
    title = _("what happened")
    parameter_name = "verb"

    def lookups(self, request, model_admin):
        # The declared vocabulary, not a DISTINCT over the whole trail: the filter opens as fast at any size.
        return verb_choices(registered_verbs())

    def queryset(self, request, queryset):
        return queryset.filter(verb=self.value()) if self.value() else queryset


class RecordKindFilter(admin.SimpleListFilter):
    title = _("kind of record")
    parameter_name = "record"

    def lookups(self, request, model_admin):
        cts = ContentType.objects.get_for_models(*AUDITED_MODELS).values()
        pairs = {str(ct.pk): presentation.type_label(ct) for ct in cts}
        return sorted(pairs.items(), key=lambda p: p[1])

    def queryset(self, request, queryset):
        return queryset.filter(content_type_id=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by services, never by hand."""

    list_display = ("created_at", "who", "what", "record_kind", "record", "request_reference")
    list_filter = ("actor_kind", VerbFilter, RecordKindFilter, ("created_at", admin.DateFieldListFilter))
    # Exact reference only: it is indexed, where a substring search would read the whole trail.
    search_fields = ("=request_reference",)
    search_help_text = _("Search by request reference, e.g. DSR-2026-000042.")
    list_select_related = ("content_type", "actor")
    ordering = ("-created_at", "-pk")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = ("created_at", "who", "what", "record_kind", "record", "request_reference", "changes", "note")
    readonly_fields = fields

    @admin.display(description=_("who"), ordering="actor_label")
    def who(self, obj):
        return format_html("{} <small>({})</small>", obj.actor_label or "—", obj.get_actor_kind_display())

    @admin.display(description=_("what happened"), ordering="verb")
    def what(self, obj):
        return presentation.event_verb(obj)

    @admin.display(description=_("kind of record"))
    def record_kind(self, obj):
        return presentation.type_label(obj.content_type)

    @admin.display(description=_("record"))
    def record(self, obj):
        model = obj.content_type.model_class() if obj.content_type_id else None
        if model is not None and model in AUDITED_MODELS and obj.object_id:
            opts = model._meta
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_audit", args=[obj.object_id])
            return format_html('<a href="{}">{}</a>', url, obj.object_label or obj.object_id)
        return obj.object_label or "—"

    @admin.display(description=_("what changed"))
    def changes(self, obj):
        lines = presentation.change_lines(obj)
        if not lines:
            return "—"
        return format_html_join(
            "", "<div>{}{} → {}</div>", ((f"{what}: " if what else "", old, new) for what, old, new in lines)
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
