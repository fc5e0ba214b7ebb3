from django import forms
from django.utils.translation import gettext_lazy as _


class SignupForm(forms.Form):
    """Extra sign-up fields for allauth: the account holder's name, asked first."""

    # allauth orders the sign-up form by this attribute.
    field_order = ["name", "email", "password1", "password2"]

    name = forms.CharField(label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))

    def signup(self, request, user):
        from accounts.services import update_name
        from core.ratelimit import client_ip
        from policies.services import record_signup_acceptances

        update_name(user=user, name=self.cleaned_data["name"])
        # The sign-up page names the terms and policy; keep the proof of what this newcomer agreed to.
        record_signup_acceptances(user=user, ip=client_ip(request))


class NameForm(forms.Form):
    """The account holder's name, as shown on their account and in our e-mails."""

    name = forms.CharField(label=_("Full name"), max_length=300, widget=forms.TextInput(attrs={"autocomplete": "name"}))

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name
