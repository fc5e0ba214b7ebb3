from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import Purpose


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
