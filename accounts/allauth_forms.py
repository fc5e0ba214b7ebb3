"""allauth's forms with the portal's own words on their fields (ACCOUNT_FORMS in settings).

A module of its own: allauth's form module imports ``accounts.forms.SignupForm`` (ACCOUNT_SIGNUP_FORM_CLASS), so
these subclasses of allauth's forms cannot live beside it.
"""

from allauth.account import forms as allauth_forms
from django.utils.translation import gettext_lazy as _

EMAIL = _("E-mail address")
NEW_PASSWORD = _("New password")
REPEAT_PASSWORD = _("Repeat the password")


def _relabel(form, **labels) -> None:
    """Give the named fields the portal's label, and the same words as placeholder where allauth shows one."""
    for name, label in labels.items():
        field = form.fields.get(name)
        if field is None:
            continue
        field.label = label
        if "placeholder" in field.widget.attrs:
            field.widget.attrs["placeholder"] = label


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, login=EMAIL, remember=_("Keep me logged in on this device"))


class SignupForm(allauth_forms.SignupForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, email=EMAIL, password2=REPEAT_PASSWORD)


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, email=EMAIL)


class ResetPasswordKeyForm(allauth_forms.ResetPasswordKeyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, password1=NEW_PASSWORD, password2=REPEAT_PASSWORD)


class AddEmailForm(allauth_forms.AddEmailForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, email=EMAIL)
