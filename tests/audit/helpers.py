"""Helpers for the tests that drive admin pages and check the audit trail they write."""

from django.contrib.auth.models import Group
from django.forms import CheckboxInput, MultiWidget

from tests.factories import UserFactory


def officer(**overrides):
    """A staff member in the Privacy officer group (its permissions as the portal grants them)."""
    user = UserFactory(is_staff=True, email=overrides.pop("email", "officer@example.com"), **overrides)
    user.groups.add(Group.objects.get(name="Privacy officer"))
    return user


def _put(data: dict, form, name: str) -> None:
    field = form.fields[name]
    key = form.add_prefix(name)
    value = form[name].value()
    widget = field.widget
    if isinstance(widget, MultiWidget):
        parts = value if isinstance(value, list | tuple) else widget.decompress(value)
        for i, part in enumerate(parts):
            data[f"{key}_{i}"] = "" if part is None else part
    elif isinstance(widget, CheckboxInput):
        if value:
            data[key] = "on"
    elif isinstance(value, list | tuple):
        data[key] = [str(v) for v in value]
    else:
        data[key] = "" if value is None else value


def change_form_data(response, **changes) -> dict:
    """The POST data of an admin add or change page as shown (the form and its inlines), with ``changes``."""
    data: dict = {}
    form = response.context["adminform"].form
    for name in form.fields:
        _put(data, form, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form[name].value()
        for sub in formset.forms:
            for name in sub.fields:
                _put(data, sub, name)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}
