from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import is_naive, localdate, localtime, make_aware
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin import AuditTrailAdminMixin
from consent import charts, selectors, services
from consent.forms import VendorForm
from consent.models import (
    LANGS,
    Category,
    ConsentRecord,
    CookieDeclaration,
    PropagationMethod,
    Property,
    Purpose,
    PurposeConsent,
    PurposeVersion,
    Revision,
    Vendor,
)
from core import csvsafe
from core.languages import BASE_LANGUAGE, language_name

# --- categories: one field per language, stored as JSON ---------------------------------


def _lang_label(kind: str, lang: str) -> str:
    return f"{kind} ({language_name(lang)})"


def _language_fields() -> dict[str, forms.Field]:
    # A name and a description for each of the portal's languages; the base language's are required.
    fields = {}
    for lang in LANGS:
        required = lang == BASE_LANGUAGE
        fields[f"name_{lang}"] = forms.CharField(label=_lang_label("Name", lang), max_length=100, required=required)
        fields[f"description_{lang}"] = forms.CharField(
            label=_lang_label("Description", lang), widget=forms.Textarea(attrs={"rows": 3}), required=required
        )
    return fields


class _CategoryFormBase(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["key", "order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for lang in LANGS:
            self.fields[f"name_{lang}"].initial = (self.instance.name or {}).get(lang, "")
            self.fields[f"description_{lang}"].initial = (self.instance.description or {}).get(lang, "")

    def save(self, commit=True):
        data = self.cleaned_data
        self.instance.name = {lang: data[f"name_{lang}"] for lang in LANGS if data.get(f"name_{lang}")}
        self.instance.description = {
            lang: data[f"description_{lang}"] for lang in LANGS if data.get(f"description_{lang}")
        }
        return super().save(commit)


# The form declares a name and a description field for each language (its metaclass collects them).
CategoryForm = type(
    "CategoryForm",
    (_CategoryFormBase,),
    {"__doc__": "Name and description per language.", "__module__": __name__, **_language_fields()},
)


def propagation_notice() -> str:
    """How soon a change to a website's banner reaches its visitors (CONSENT_BANNER_PROPAGATION_SECONDS)."""
    seconds = settings.CONSENT_BANNER_PROPAGATION_SECONDS
    span = (
        ngettext("%(n)d minute", "%(n)d minutes", seconds // 60) % {"n": seconds // 60}
        if seconds and seconds % 60 == 0
        else ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    )
    return _(
        "Visitors' browsers keep the banner for up to %(span)s without asking the portal again, so a change "
        "saved here (a new revision that asks visitors again included) reaches every visitor within %(span)s."
    ) % {"span": span}


class InvalidatesBannerMixin(AuditTrailAdminMixin):
    """Consent configuration is saved and deleted by consent's services (audited; banners reload)."""

    def save_model(self, request, obj, form, change):
        services.save_configuration(obj=obj, actor=request.user, save_m2m=form.save_m2m)

    def save_related(self, request, form, formsets, change):
        # The form's many-to-many fields were saved with the object (and audited there).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model not in services.CONFIG_MODELS:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.delete_configuration(obj=obj, actor=request.user)
        for obj in instances:
            services.save_configuration(obj=obj, actor=request.user)
        formset.save_m2m()

    def delete_model(self, request, obj):
        services.delete_configuration(obj=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.delete_configuration(obj=obj, actor=request.user)


@admin.register(Category)
class CategoryAdmin(InvalidatesBannerMixin, admin.ModelAdmin):
    form = CategoryForm
    list_display = ("key", "english_name", "order")
    fieldsets = (
        (None, {"fields": ("key", "order")}),
        *[(language_name(lang), {"fields": (f"name_{lang}", f"description_{lang}")}) for lang in LANGS],
    )

    @admin.display(description=_("name"))
    def english_name(self, obj):
        return obj.display_name(BASE_LANGUAGE)

    def get_readonly_fields(self, request, obj=None):
        # A key is an identifier: websites mark their scripts with it (data-category), GPC and Consent Mode
        # map features/performance/targeting by it, and renaming necessary would unlock it. Names are editable.
        return ("key",) if obj and obj.pk else ()

    def has_delete_permission(self, request, obj=None):
        return not (obj and obj.locked) and super().has_delete_permission(request, obj)


# --- properties ---------------------------------------------------------------------------


class PropertyForm(forms.ModelForm):
    material_change = forms.BooleanField(
        label=_("This is a material change"),
        required=False,
        help_text=_("Bumps the revision: every visitor is asked again at their next page view."),
    )
    change_note = forms.CharField(label=_("What changed"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Property
        fields = [
            "name",
            "is_portal",
            "allowed_origins",
            "default_language",
            "categories",
            "refusal_lifetime_days",
            "acceptance_lifetime_days",
        ]

    def clean_allowed_origins(self):
        from urllib.parse import urlsplit

        value = self.cleaned_data["allowed_origins"]
        for line in value.splitlines():
            line = line.strip().rstrip("/")
            if not line:
                continue
            parts = urlsplit(line)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise forms.ValidationError(_("%(o)s is not an origin like https://www.example.com") % {"o": line})
        return value

    def clean(self):
        data = super().clean()
        if data.get("material_change") and not data.get("change_note"):
            self.add_error("change_note", _("Say what changed; the note is kept in the revision history."))
        return data


class DeclarationInline(admin.TabularInline):
    model = CookieDeclaration
    extra = 0
    fields = ("name", "is_regex", "category", "provider", "purpose", "duration", "party", "vendor")


class RevisionInline(admin.TabularInline):
    model = Revision
    extra = 0
    can_delete = False
    fields = ("number", "material", "note", "created_at", "created_by")
    readonly_fields = fields
    verbose_name_plural = _("revision history")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Property)
class PropertyAdmin(InvalidatesBannerMixin, admin.ModelAdmin):
    form = PropertyForm
    list_display = ("name", "key", "revision", "is_portal", "updated_at")
    search_fields = ("name", "key", "allowed_origins")
    filter_horizontal = ("categories",)
    inlines = [DeclarationInline, RevisionInline]
    readonly_fields = ("key", "revision", "embed_snippet", "refused_origins", "outcomes_chart")
    fieldsets = (
        (None, {"fields": ("name", "key", "is_portal", "allowed_origins", "default_language", "categories")}),
        (_("Lifetimes"), {"fields": ("refusal_lifetime_days", "acceptance_lifetime_days")}),
        (_("Revision"), {"fields": ("revision", "material_change", "change_note")}),
        (_("Embedding"), {"fields": ("embed_snippet",)}),
        (_("Refused website addresses"), {"fields": ("refused_origins",)}),
        (_("Outcomes, last 30 days"), {"fields": ("outcomes_chart",)}),
    )

    @admin.display(description=_("embed snippet"))
    def embed_snippet(self, obj):
        if not obj.pk:
            return _("Save the website first.")
        snippet = f'<script src="{settings.SITE_URL}/consent/{obj.key}/banner.js" defer></script>'
        return format_html(
            "<pre><code>{}</code></pre><p>{}</p><p>{}</p>",
            snippet,
            _(
                "The address of every website that shows this banner (its origin, e.g. https://www.example.com) "
                "must be listed in Allowed origins above: on any other address the banner still shows, but the "
                "visitors' choices are refused and not recorded as proof of consent. "
                "Paste this into every page, before other scripts. Mark blocked scripts with "
                'type="text/plain" data-category="performance" (or features, targeting). '
                "If the page loads Google tags without blocking them (Consent Mode), put the snippet first "
                "in <head> and leave out defer, so that consent is denied by default before any tag runs."
            ),
            propagation_notice(),
        )

    @admin.display(description=_("refused website addresses"))
    def refused_origins(self, obj):
        rows = selectors.list_refused_origins(prop=obj) if obj.pk else []
        if not rows:
            return _("None: every choice came from an allowed address.")
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    r.origin,
                    r.count,
                    f"{localtime(r.first_seen):%Y-%m-%d %H:%M}",
                    f"{localtime(r.last_seen):%Y-%m-%d %H:%M}",
                )
                for r in rows
            ),
        )
        return format_html(
            "<p>{}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _(
                "The banner was shown on these addresses, but they are not in Allowed origins, so the visitors' "
                "choices there were refused and not recorded. If an address is one of your websites, add it to "
                "Allowed origins."
            ),
            _("Website address"),
            _("Refused attempts"),
            _("First seen"),
            _("Last seen"),
            body,
        )

    @admin.display(description=_("outcomes per day"))
    def outcomes_chart(self, obj):
        if not obj.pk:
            return "-"
        return charts.outcomes_chart_html(selectors.outcomes_per_day(prop=obj, days=30), selectors.summary_as_of())

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("material_change"):
            services.record_revision(prop=obj, note=form.cleaned_data["change_note"], actor=request.user, material=True)
            obj.refresh_from_db(fields=["revision"])
            messages.info(request, _("Revision bumped to %(r)s: visitors will be asked again.") % {"r": obj.revision})
        elif change and form.has_changed():
            services.record_revision(
                prop=obj,
                note=form.cleaned_data.get("change_note") or _("Edited in admin (not material)."),
                actor=request.user,
                material=False,
            )

    def has_delete_permission(self, request, obj=None):
        # The consent log points at the property with PROTECT; deleting is refused once it has records.
        if obj is not None and obj.records.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ("property", "number", "material", "note", "created_at", "created_by")
    list_filter = ("property", "material")
    fields = ("property", "material", "note")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        rev = services.record_revision(
            prop=form.cleaned_data["property"],
            note=form.cleaned_data["note"],
            actor=request.user,
            material=form.cleaned_data["material"],
        )
        obj.pk = rev.pk
        obj.number = rev.number


@admin.register(Vendor)
class VendorAdmin(InvalidatesBannerMixin, admin.ModelAdmin):
    form = VendorForm
    list_display = ("name", "country", "how_told", "privacy_policy_url")
    list_filter = ("propagation_method", "sale_or_sharing")
    search_fields = ("name", "purpose")
    filter_horizontal = ("properties", "consent_purposes")
    fieldsets = (
        (None, {"fields": ("name", "purpose", "country", "privacy_policy_url", "properties")}),
        (
            _("What they receive"),
            {
                "fields": ("consent_purposes", "sale_or_sharing", "data_categories"),
                "description": _(
                    "Opt-outs, withdrawn consents, restrictions and erasures reach this third party only when they "
                    "concern what it receives."
                ),
            },
        ),
        (
            _("How they are told"),
            {
                "fields": ("propagation_method", "propagation_system", "privacy_email", "not_told_reason"),
                "description": _(
                    "Through one of our web services (it is called for opt-outs and consent withdrawals), by an "
                    "e-mail to their privacy contact with a link to confirm, or not at all, with the reason."
                ),
            },
        ),
    )

    @admin.display(description=_("how they are told"))
    def how_told(self, obj):
        if obj.propagation_method == PropagationMethod.HTTP and obj.propagation_system_id:
            return _("through %(system)s") % {"system": obj.propagation_system.name}
        if obj.propagation_method == PropagationMethod.EMAIL:
            return _("e-mail to %(address)s") % {"address": obj.privacy_email}
        if obj.not_told_reason:
            return _("not told: %(reason)s") % {"reason": obj.not_told_reason[:80]}
        return _("not chosen yet")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("propagation_system")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "privacy_policy_url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(CookieDeclaration)
class CookieDeclarationAdmin(InvalidatesBannerMixin, admin.ModelAdmin):
    list_display = ("name", "property", "category", "provider", "duration", "party")
    list_filter = ("property", "category", "party")
    search_fields = ("name", "provider", "purpose")


# --- the proof-of-consent log: read-only, with lookup and export -------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The consent log holds tens of millions of rows: its list never counts, sorts or pages over all of them.
# Pages go newest first by key, "older than this row" ((created_at, id) < cursor), through the time indexes;
# totals come from the daily figures or, for what those cannot answer, from PostgreSQL's planner estimate.
OLDER, NEWER = "older", "newer"  # cursor parameters: the rows older (or newer) than the one named
FROM, BEFORE, UNTIL = "created_at__gte", "created_at__lt", "until"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(record: ConsentRecord) -> str:
    """A row's place in the log, exact to the microsecond: "<microseconds since 1970>-<id>"."""
    return f"{(record.created_at - _EPOCH) // timedelta(microseconds=1)}-{record.pk}"


def decode_cursor(value: str) -> tuple[datetime, int] | None:
    micros, _sep, pk = (value or "").partition("-")
    if not (micros.isdigit() and pk.isdigit()):
        return None
    return _EPOCH + timedelta(microseconds=int(micros)), int(pk)


def parse_moment(value: str | None, *, end_of_day: bool = False) -> datetime | None:
    """A date ("2026-05-01": local midnight, or the next one with ``end_of_day``) or a date and time."""
    value = (value or "").strip()
    if not value:
        return None
    moment = day = None
    try:
        day = parse_date(value)  # first: parse_datetime would read a bare date as midnight too
        moment = None if day else parse_datetime(value)
    except ValueError:
        pass
    if moment is None and day is None:
        raise IncorrectLookupParameters(value)
    if day is not None:
        moment = datetime.combine(day + timedelta(days=1 if end_of_day else 0), dt_time.min)
    return make_aware(moment) if is_naive(moment) else moment


def local_day(moment: datetime | None) -> date | None:
    """The local day starting at ``moment``, or None when it is not a local midnight."""
    if moment is None:
        return None
    local = localtime(moment)
    return local.date() if local.time() == dt_time.min else None


class ConsentDateFilter(admin.ListFilter):
    """The log by date: recent periods, months, or any range of days, each a range scan of the time index."""

    title = _("date")
    template = "admin/consent/consentrecord/date_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name in (FROM, BEFORE, UNTIL):
            if name in params:
                value = params.pop(name)
                self.values[name] = (value[-1] if isinstance(value, list) else value) or ""
        self.start = parse_moment(self.values.get(FROM))
        self.end = parse_moment(self.values.get(BEFORE)) or parse_moment(self.values.get(UNTIL), end_of_day=True)

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [FROM, BEFORE, UNTIL]

    def queryset(self, request, queryset):
        if self.start is not None:
            queryset = queryset.filter(created_at__gte=self.start)
        if self.end is not None:
            queryset = queryset.filter(created_at__lt=self.end)
        return queryset

    def choices(self, changelist):
        today = localdate()
        month = today.replace(day=1)
        periods = [
            (_("Any date"), None, None),
            (_("Today"), today, today + timedelta(days=1)),
            (_("Past 7 days"), today - timedelta(days=6), today + timedelta(days=1)),
            (_("Past 30 days"), today - timedelta(days=29), today + timedelta(days=1)),
        ]
        # The months the log holds, from the daily figures (never a DISTINCT over the log), the latest twelve.
        for first in [m for m in selectors.summary_months() if m <= month][:12]:
            nxt = (first + timedelta(days=32)).replace(day=1)
            periods.append((date_format(first, "YEAR_MONTH_FORMAT"), first, min(nxt, today + timedelta(days=1))))
        current = (local_day(self.start), local_day(self.end))
        for label, first, end in periods:
            params = {FROM: first.isoformat(), BEFORE: end.isoformat()} if first else {}
            yield {
                "selected": current == (first, end) if first else not self.values,
                "query_string": changelist.get_query_string(params, [FROM, BEFORE, UNTIL]),
                "display": label,
            }
        until = (self.end - timedelta(days=1)) if self.end and local_day(self.end) else None
        yield {
            "form": True,
            "hidden": [(k, v) for k, v in changelist.params.items() if k not in (FROM, BEFORE, UNTIL, PAGE_VAR)],
            "start": local_day(self.start).isoformat() if local_day(self.start) else "",
            "until": localtime(until).date().isoformat() if until else "",
        }


class ConsentLogChangeList(ChangeList):
    """The log's list: one page by key, newest first, with a total that never counts the log."""

    def get_results(self, request):
        older, newer = getattr(request, "consent_cursor", (None, None))
        per_page = self.list_per_page
        qs = self.queryset
        if newer is not None:
            at, pk = newer
            page = qs.filter(created_at__gte=at).filter(Q(created_at__gt=at) | Q(pk__gt=pk))
            rows = list(page.order_by("created_at", "pk")[: per_page + 1])
            has_newer, rows = len(rows) > per_page, rows[:per_page][::-1]
            has_older = True
        else:
            if older is not None:
                at, pk = older
                qs = qs.filter(created_at__lte=at).filter(Q(created_at__lt=at) | Q(pk__lt=pk))
            rows = list(qs.order_by("-created_at", "-pk")[: per_page + 1])
            has_older, rows = len(rows) > per_page, rows[:per_page]
            has_newer = older is not None
        self.result_list = rows
        self.older_url = self.get_query_string({OLDER: encode_cursor(rows[-1])}) if has_older and rows else ""
        self.newer_url = self.get_query_string({NEWER: encode_cursor(rows[0])}) if has_newer and rows else ""
        self.newest_url = self.get_query_string() if (older or newer) else ""
        self.result_count, self.count_text = self.model_admin.log_total(request, self)
        self.full_result_count = None if self.query else self.result_count  # no "N results (Show all)" line
        self.show_full_result_count = False
        self.show_admin_actions = False
        self.can_show_all = False
        self.multi_page = bool(self.older_url or self.newer_url)
        self.paginator = None


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "consent_id", "property", "revision", "method", "gpc", "user_agent_family")
    list_filter = (ConsentDateFilter, "property", "method", "gpc")
    search_fields = ("consent_id",)  # an exact consent id: see get_search_results
    search_help_text = _("Find a record by its exact consent id.")
    sortable_by = ()  # always newest first: the order the keyset pages and the time indexes share
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "admin/consent/consentrecord/change_list.html"

    def get_changelist(self, request, **kwargs):
        return ConsentLogChangeList

    def changelist_view(self, request, extra_context=None):
        # The cursors are the list's own parameters, not field lookups: take them out before the filters run.
        get = request.GET.copy()
        cursors = tuple(decode_cursor(get.pop(name, [""])[-1]) for name in (OLDER, NEWER))
        request.GET = get
        request.consent_cursor = cursors
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        import uuid

        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            consent_id = uuid.UUID(term)
        except ValueError:
            self.message_user(
                request,
                _(
                    "“%(term)s” is not a consent id. A consent id looks like 3f2b6c1e-8d4a-4b7e-9a10-2c5d7e8f9a01: "
                    "the banner stores it in the visitor's browser."
                )
                % {"term": term[:80]},
                messages.WARNING,
            )
            return queryset.none(), False
        return queryset.filter(consent_id=consent_id), False  # a plain equality, served by the consent id index

    def log_total(self, request, cl) -> tuple[int, str]:
        """The list's total: exact for a consent id, from the daily figures where they answer, else about N."""
        if cl.query:
            n = cl.queryset.count()  # one consent id's records, through its index
            return n, ngettext("%(n)s record", "%(n)s records", n) % {"n": number_format(n, force_grouping=True)}
        known = {"property__id__exact", "method__exact", "gpc__exact"}
        dates = next((f for f in cl.filter_specs if isinstance(f, ConsentDateFilter)), None)
        first, end = (local_day(dates.start), local_day(dates.end)) if dates else (None, None)
        by_day = dates is None or ((dates.start is None or first) and (dates.end is None or end))
        params = {k: v for k, v in cl.params.items() if k not in (FROM, BEFORE, UNTIL)}
        if by_day and set(params) <= known:
            try:
                n = selectors.summary_total(
                    first_day=first,
                    end_day=end,
                    property_pk=int(params["property__id__exact"]) if "property__id__exact" in params else None,
                    method=params.get("method__exact"),
                    gpc={"1": True, "0": False}[params["gpc__exact"]] if "gpc__exact" in params else None,
                )
            except (KeyError, ValueError):
                pass
            else:
                text = ngettext("%(n)s record", "%(n)s records", n) % {"n": number_format(n, force_grouping=True)}
                return n, f"{text} ({charts.as_of_text(selectors.summary_as_of())})"
        n = selectors.estimate_count(cl.queryset)
        return n, _("about %(n)s records") % {"n": number_format(n, force_grouping=True)}

    def get_urls(self):
        return [
            path("lookup/", self.admin_site.admin_view(self.lookup_view), name="consent_consentrecord_lookup"),
            *super().get_urls(),
        ]

    def lookup_view(self, request):
        """Staff look up a consent id and download its history as proof (CSV or JSON)."""
        import uuid

        if not self.has_view_permission(request):
            raise PermissionDenied

        raw = (request.GET.get("consent_id") or "").strip()
        records, error = [], ""
        if raw:
            try:
                records = selectors.get_consent_history(consent_id=uuid.UUID(raw))
            except ValueError:
                error = _("That is not a consent id.")
        fmt = request.GET.get("format")
        if records and fmt == "json":
            response = HttpResponse(
                selectors.consent_proof_json(consent_id=raw, records=records), content_type="application/json"
            )
            response["Content-Disposition"] = f'attachment; filename="consent-{raw}.json"'
            return response
        if records and fmt == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="consent-{raw}.csv"'
            csvsafe.writer(response).writerows(selectors.consent_proof_rows(records=records))
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Look up a consent id"),
            "consent_id": raw,
            "records": records,
            "error": error,
            "searched": bool(raw),
        }
        return render(request, "admin/consent/consentrecord/lookup.html", context)


class PurposeVersionInline(admin.StackedInline):
    model = PurposeVersion
    extra = 1
    fields = ("version", "title", "wording", "requires_new_consent", "created_at")
    readonly_fields = ("created_at",)
    can_delete = False

    def has_change_permission(self, request, obj=None):
        # Wording that someone agreed to never changes; publish a new version instead.
        return False


@admin.register(Purpose)
class PurposeAdmin(InvalidatesBannerMixin, admin.ModelAdmin):
    list_display = ("key", "__str__", "order")
    inlines = [PurposeVersionInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PurposeConsent)
class PurposeConsentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "purpose", "version", "granted", "source")
    list_filter = ("purpose", "granted", "source")
    search_fields = ("user__email",)
    list_select_related = ("user", "purpose", "version")


def admin_lookup_url() -> str:
    return reverse("admin:consent_consentrecord_lookup")
