from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import Purpose, Vendor


class PurposeChoiceForm(forms.Form):
    purpose = forms.SlugField()
    action = forms.ChoiceField(choices=[("grant", _("Give consent")), ("withdraw", _("Withdraw consent"))])

    def clean_purpose(self):
        key = self.cleaned_data["purpose"]
        if not Purpose.objects.filter(key=key).exists():
            raise forms.ValidationError(_("Unknown purpose."))
        return key


class EmailPreferencesForm(forms.Form):
    marketing = forms.BooleanField(
        label=_("Send me news and offers by e-mail"),
        required=False,
        help_text=_("You can unsubscribe at any time, from here or with one click in any of these e-mails."),
    )


def _category_choices() -> list[tuple[str, str]]:
    from registry.taxonomy import DATA_CATEGORIES

    return [(key, _(label)) for key, label in DATA_CATEGORIES.items()]


class VendorForm(forms.ModelForm):
    """A third party as the privacy team edits it: what it receives, and how it hears of opt-outs and erasures."""

    data_categories = forms.MultipleChoiceField(
        label=_("Kinds of personal data they receive"),
        choices=_category_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Told when a person's data of these kinds is erased or restricted."),
    )

    class Meta:
        model = Vendor
        fields = [
            "name",
            "purpose",
            "country",
            "privacy_policy_url",
            "properties",
            "consent_purposes",
            "sale_or_sharing",
            "data_categories",
            "propagation_method",
            "propagation_system",
            "privacy_email",
            "not_told_reason",
        ]

    def clean(self):
        from consent.services import check_vendor_propagation

        data = super().clean()
        try:
            check_vendor_propagation(
                method=data.get("propagation_method") or "",
                system=data.get("propagation_system"),
                privacy_email=data.get("privacy_email") or "",
                not_told_reason=data.get("not_told_reason") or "",
                data_categories=data.get("data_categories") or [],
            )
        except forms.ValidationError as exc:
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data
