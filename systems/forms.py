"""Admin forms for connected systems, in words a privacy team uses rather than JSON."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from registry.strategies import Strategy
from systems.declarations import ENV_NAME, IDENTIFIER
from systems.models import Action, ExternalSystem, IdentityKind, Kind, SystemDataset, SystemField, SystemRetentionRule


def _names(text: str, what: str) -> list[str]:
    names = [n.strip() for n in text.replace("\n", ",").split(",") if n.strip()]
    bad = [n for n in names if not IDENTIFIER.match(n)]
    if bad:
        raise ValidationError(_("Not a plain %(what)s name: %(names)s") % {"what": what, "names": ", ".join(bad)})
    return names


class ExternalSystemForm(forms.ModelForm):
    actions = forms.MultipleChoiceField(
        label=_("What it supports"), choices=Action.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ExternalSystem
        fields = (
            "key",
            "name",
            "kind",
            "owner_name",
            "owner_email",
            "url_env",
            "url",
            "secret_env",
            "timeout",
            "actions",
        )

    def clean_url_env(self):
        value = self.cleaned_data["url_env"].strip()
        if value and not ENV_NAME.match(value):
            raise ValidationError(_("Use capital letters, digits and underscores, e.g. LEGACY_SHOP_DATABASE_URL."))
        return value

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Kind.SQL and not data.get("url_env"):
            self.add_error("url_env", _("A database needs the variable that holds its address."))
        if kind == Kind.HTTP and not data.get("url"):
            self.add_error("url", _("A web service needs its address."))
        return data


class SystemDatasetForm(forms.ModelForm):
    email_column = forms.CharField(label=_("Column with the person's e-mail address"), required=False)
    user_id_column = forms.CharField(label=_("Column with the person's portal account number"), required=False)
    links = forms.CharField(
        label=_("Links to other tables"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: this table's column, then the table and column it points at, e.g. customer_id = customers.id"
        ),
    )
    other_columns_text = forms.CharField(
        label=_("Columns without personal data"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Separated by commas: columns reviewed and found to hold nothing about a person."),
    )

    class Meta:
        model = SystemDataset
        fields = ("system", "table", "title", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        d = self.instance
        self.fields["email_column"].initial = d.identity.get(IdentityKind.EMAIL, "")
        self.fields["user_id_column"].initial = d.identity.get(IdentityKind.USER_ID, "")
        self.fields["links"].initial = "\n".join(f"{c} = {t}" for c, t in d.references.items())
        self.fields["other_columns_text"].initial = ", ".join(d.other_columns)

    def clean_table(self):
        return _names(self.cleaned_data["table"], _("table"))[0] if self.cleaned_data["table"].strip() else ""

    def clean_links(self):
        links = {}
        for line in self.cleaned_data["links"].splitlines():
            if not line.strip():
                continue
            column, sep, target = (part.strip() for part in line.partition("="))
            table, dot, target_column = target.partition(".")
            if not sep or not dot or not all(IDENTIFIER.match(p) for p in (column, table, target_column)):
                raise ValidationError(_("Write each link as column = table.column: %(line)s") % {"line": line.strip()})
            links[column] = target
        return links

    def clean(self):
        data = super().clean()
        identity = {}
        for kind, name in ((IdentityKind.EMAIL, "email_column"), (IdentityKind.USER_ID, "user_id_column")):
            if data.get(name, "").strip():
                try:
                    identity[kind.value] = _names(data[name], _("column"))[0]
                except ValidationError as exc:
                    self.add_error(name, exc)
        links = data.get("links") or {}
        if not identity and not links and not self.errors:
            raise ValidationError(_("Name the column that identifies the person, or a link to a table that does."))
        self.instance.identity = identity
        self.instance.references = links
        try:
            self.instance.other_columns = _names(data.get("other_columns_text", ""), _("column"))
        except ValidationError as exc:
            self.add_error("other_columns_text", exc)
        return data


class SystemFieldForm(forms.ModelForm):
    recipients_text = forms.CharField(
        label=_("Recipients"),
        required=False,
        help_text=_("Separated by commas."),
        widget=forms.TextInput(attrs={"size": 24}),
    )

    class Meta:
        model = SystemField
        fields = ("name", "category", "purpose", "legal_basis", "strategy", "keep_reason", "secret", "rectifiable")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipients_text"].initial = ", ".join(self.instance.recipients or [])

    def clean(self):
        data = super().clean()
        if data.get("name") and not IDENTIFIER.match(data["name"]):
            self.add_error("name", _("Not a plain column name."))
        if data.get("strategy") == Strategy.KEEP and not (data.get("keep_reason") or "").strip():
            self.add_error("keep_reason", _("Say why this column is kept when the person asks for erasure."))
        self.instance.recipients = [r.strip() for r in data.get("recipients_text", "").split(",") if r.strip()]
        return data


class SystemRetentionRuleForm(forms.ModelForm):
    fields_text = forms.CharField(
        label=_("Columns"), required=False, help_text=_("For clear, mask and pseudonymise; separated by commas.")
    )

    class Meta:
        model = SystemRetentionRule
        fields = ("name", "period_days", "date_field", "action", "legal_basis")
        widgets = {"legal_basis": forms.TextInput(attrs={"size": 30})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields_text"].initial = ", ".join(self.instance.fields or [])

    def clean(self):
        data = super().clean()
        try:
            names = _names(data.get("fields_text", ""), _("column"))
        except ValidationError as exc:
            self.add_error("fields_text", exc)
            return data
        changes_columns = data.get("action") in ("null", "mask", "pseudonymise")
        if changes_columns and not names:
            self.add_error("fields_text", _("Name the columns this rule changes."))
        if not changes_columns and names:
            self.add_error("fields_text", _("This rule does not change columns: leave this empty."))
        self.instance.fields = names
        return data
