from django import forms
from django.utils.translation import gettext_lazy as _


class AcceptanceForm(forms.Form):
    """The explicit "I accept" an account holder gives to a material change."""

    confirm = forms.BooleanField(
        label=_("I have read the changes and accept the new version."),
        required=True,
        error_messages={"required": _("Tick the box to accept, or log out if you do not agree.")},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
