from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin import AuditTrailAdminMixin
from registry.sites import LegalBasis
from registry.strategies import Strategy
from registry.taxonomy import category_label
from systems.declarations import InvalidSystemsFile
from systems.discovery import propose_declaration
from systems.engine import SystemUnavailable
from systems.forms import ExternalSystemForm, SystemDatasetForm, SystemFieldForm, SystemRetentionRuleForm
from systems.models import Action, ExternalSystem, Kind, SystemDataset, SystemField, SystemRetentionRule
from systems.selectors import get_system
from systems.services import accept_proposal, record_declaration_edit, system_document


class DeclarationAuditMixin(AuditTrailAdminMixin):
    """Every save from admin appends one event to the system's trail, with the declaration before and after."""

    def _system_of(self, obj):
        return obj if isinstance(obj, ExternalSystem) else obj.system

    def save_model(self, request, obj, form, change):
        # The declaration as stored before this save (a new system has none).
        if isinstance(obj, ExternalSystem):
            request._systems_old = system_document(ExternalSystem.objects.get(pk=obj.pk)) if change else None
        else:
            request._systems_old = system_document(obj.system)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        record_declaration_edit(
            system=self._system_of(form.instance), old=getattr(request, "_systems_old", None), actor=request.user
        )

    def delete_model(self, request, obj):
        system = self._system_of(obj)
        old = system_document(system)
        super().delete_model(request, obj)
        if not isinstance(obj, ExternalSystem):
            record_declaration_edit(system=system, old=old, actor=request.user)


class DatasetInline(admin.TabularInline):
    model = SystemDataset
    verbose_name = _("table")
    verbose_name_plural = _("tables")
    fields = ("table", "title", "person_link")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    @admin.display(description=_("how rows reach a person"))
    def person_link(self, obj):
        parts = [str(_("e-mail in %(column)s")) % {"column": c} for k, c in obj.identity.items() if k == "email"]
        parts += [
            str(_("account number in %(column)s")) % {"column": c} for k, c in obj.identity.items() if k == "user_id"
        ]
        parts += [f"{c} → {t}" for c, t in obj.references.items()]
        return "; ".join(parts)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ExternalSystem)
class ExternalSystemAdmin(DeclarationAuditMixin, admin.ModelAdmin):
    form = ExternalSystemForm
    list_display = ("name", "kind", "owner_name", "supports", "table_count")
    list_filter = ("kind",)
    search_fields = ("name", "key", "owner_name", "owner_email")
    inlines = [DatasetInline]
    actions = ["discover"]
    fieldsets = (
        (None, {"fields": ("name", "key", "kind", "actions")}),
        (_("Owner"), {"fields": ("owner_name", "owner_email")}),
        (_("Database"), {"fields": ("url_env",)}),
        (_("Web service"), {"fields": ("url", "secret_env", "timeout"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("supports"))
    def supports(self, obj):
        labels = dict(Action.choices)
        return ", ".join(str(labels.get(a, a)) for a in obj.actions) or "—"

    @admin.display(description=_("tables"))
    def table_count(self, obj):
        return obj.datasets.count()

    def get_urls(self):
        own = [
            path(
                "<int:pk>/discover/",
                self.admin_site.admin_view(self.discover_view),
                name="systems_externalsystem_discover",
            )
        ]
        return own + super().get_urls()

    @admin.action(description=_("Read the database's layout and propose a declaration"), permissions=["change"])
    def discover(self, request, queryset):
        systems = list(queryset.filter(kind=Kind.SQL)[:2])
        if len(systems) != 1:
            self.message_user(request, _("Choose one database to read."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:systems_externalsystem_discover", args=[systems[0].pk]))

    def discover_view(self, request, pk):
        try:
            system = get_system(key=ExternalSystem.objects.values_list("key", flat=True).get(pk=pk))
        except ExternalSystem.DoesNotExist:
            raise Http404
        if not self.has_change_permission(request, system):
            raise PermissionDenied
        change_url = reverse("admin:systems_externalsystem_change", args=[system.pk])
        try:
            proposal = propose_declaration(system=system)
        except SystemUnavailable as exc:
            self.message_user(
                request,
                _("Cannot read %(system)s: %(reason)s.") % {"system": system.name, "reason": exc.reason},
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        if request.method == "POST":
            if request.POST.get("digest") != proposal.digest:
                self.message_user(
                    request,
                    _("The database changed while you reviewed it; here is the new proposal."),
                    messages.WARNING,
                )
            else:
                try:
                    accept_proposal(system=system, datasets=proposal.datasets, actor=request.user)
                except InvalidSystemsFile as exc:
                    self.message_user(
                        request,
                        _("The proposal cannot be accepted as it is: %(errors)s") % {"errors": exc},
                        messages.ERROR,
                    )
                else:
                    n = len(proposal.datasets)
                    self.message_user(
                        request,
                        ngettext("%(system)s now declares %(n)d table.", "%(system)s now declares %(n)d tables.", n)
                        % {"system": system.name, "n": n},
                    )
                    return HttpResponseRedirect(change_url)
        strategies, bases = dict(Strategy.choices), LegalBasis
        tables = [
            {
                "table": d["table"],
                "title": d["title"],
                "identity": d.get("identity", {}),
                "references": d.get("references", {}),
                "other_columns": d.get("other_columns", []),
                "fields": [
                    {
                        **f,
                        "category_label": category_label(f["category"]),
                        "erase_label": strategies.get(f["erase"], f["erase"]),
                        "legal_basis_label": bases.label(f["legal_basis"]),
                    }
                    for f in d["fields"]
                ],
            }
            for d in proposal.datasets
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Proposed declaration of %(system)s") % {"system": system.name},
            "system": system,
            "opts": self.model._meta,
            "differences": proposal.diff.lines(),
            "unlinked": proposal.unlinked,
            "tables": tables,
            "digest": proposal.digest,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/systems/discover.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None and obj.kind == Kind.SQL and self.has_change_permission(request, obj):
            extra_context["discover_url"] = reverse("admin:systems_externalsystem_discover", args=[obj.pk])
        if obj is not None and request.method == "GET":
            from systems.selectors import undeclared_titles

            titles = undeclared_titles(system=obj)
            if titles:
                # Their data is in the exports, but without a declaration the report cannot say why it is held.
                messages.warning(
                    request,
                    _(
                        "%(system)s sent data under titles it does not declare: %(titles)s. Declare each as a table "
                        "(the same title, with its fields, purposes and legal bases) so that exports explain it."
                    )
                    % {"system": obj.name, "titles": ", ".join(titles)},
                )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


class FieldInline(admin.TabularInline):
    model = SystemField
    verbose_name = _("personal-data column")
    verbose_name_plural = _("personal-data columns")
    form = SystemFieldForm
    fields = (
        "name",
        "category",
        "purpose",
        "legal_basis",
        "recipients_text",
        "strategy",
        "keep_reason",
        "secret",
        "rectifiable",
    )
    extra = 0


class RetentionRuleInline(admin.TabularInline):
    model = SystemRetentionRule
    verbose_name = _("retention rule")
    verbose_name_plural = _("retention rules")
    form = SystemRetentionRuleForm
    fields = ("name", "period_days", "date_field", "action", "fields_text", "legal_basis")
    extra = 0


@admin.register(SystemDataset)
class SystemDatasetAdmin(DeclarationAuditMixin, admin.ModelAdmin):
    form = SystemDatasetForm
    list_display = ("title", "table", "system", "column_count")
    list_filter = ("system",)
    search_fields = ("title", "table", "system__name")
    list_select_related = ("system",)
    inlines = [FieldInline, RetentionRuleInline]
    fieldsets = (
        (None, {"fields": ("system", "table", "title", "description")}),
        (_("How rows reach a person"), {"fields": ("email_column", "user_id_column", "links")}),
        (_("Reviewed"), {"fields": ("other_columns_text",)}),
    )

    @admin.display(description=_("personal-data columns"))
    def column_count(self, obj):
        return obj.fields.count()

    def audit_trail_events(self, obj):
        from audit.selectors import list_object_events

        return list_object_events(obj=obj.system)
