from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
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


class StaffLoginForm(AdminAuthenticationForm):
    """The admin's login form, authenticated by allauth: one failed-login limit for every login form.

    allauth counts failed logins per client address and per account (``ACCOUNT_RATE_LIMITS["login_failed"]``),
    keyed by the account's e-mail address; a staff member who types their username here is counted under
    that same address, so switching between username and e-mail buys no extra guesses.
    """

    def clean(self):
        login = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password")
        if login and password:
            from allauth.account.adapter import get_adapter

            # Raises "Too many failed login attempts" once either limit is reached, before any password check.
            self.user_cache = get_adapter(self.request).authenticate(
                self.request, **_login_credentials(login), password=password
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


def _login_credentials(login: str) -> dict:
    """allauth's credentials for what was typed: the account's e-mail address, whichever the person typed."""
    if "@" in login:
        return {"email": login}
    user = get_user_model().objects.filter(username__iexact=login).exclude(email="").first()
    return {"email": user.email} if user is not None else {"username": login}
