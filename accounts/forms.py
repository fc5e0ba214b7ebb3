from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.selectors import login_credentials


class SignupForm(forms.Form):
    """Extra sign-up fields for allauth: the account holder's name, asked first."""

    # allauth orders the sign-up form by this attribute.
    field_order = ["name", "email", "password1", "password2"]

    name = forms.CharField(label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))

    def signup(self, request, user):
        # allauth's hook once the account exists. The policies the page names are recorded as accepted by
        # policies, on allauth's user_signed_up signal.
        from accounts.services import update_name

        update_name(user=user, name=self.cleaned_data["name"])


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
                self.request, **login_credentials(login=login), password=password
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
