from django import forms
from django.utils.translation import gettext_lazy as _


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(label=_("I understand that my account and its data will be deleted."))

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."), code="wrong_password")
        return password


class ErasureReviewForm(forms.Form):
    """What a privacy officer does on the erasure review page."""

    action = forms.ChoiceField(choices=[("preview", _("Refresh the preview")), ("approve", _("Approve"))])


class RectifyForm(forms.Form):
    """One corrected value of one registered field of one of the subject's rows."""

    dataset = forms.CharField(max_length=100)
    pk = forms.CharField(max_length=64)
    field = forms.CharField(max_length=100)
    value = forms.CharField(max_length=10_000, required=False, strip=False)


class SystemTaskAnswerForm(forms.Form):
    """A system owner's answer to a task: the files found, nothing found (or records deleted), or why not."""

    answer = forms.ChoiceField(
        choices=[("files", _("Send the files")), ("none", _("Nothing found / done")), ("cannot", _("Cannot do it"))]
    )
    files = forms.FileField(
        label=_("Files found (CSV, JSON or PDF)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.json,.pdf"}),
    )
    deleted = forms.IntegerField(label=_("Records deleted"), required=False, min_value=0, max_value=10_000_000)
    reason = forms.CharField(label=_("Why it cannot be done"), required=False, max_length=2000, widget=forms.Textarea)


TASK_ACTION_CHOICES = [
    ("access", _("Find the person's data and send it")),
    ("erasure", _("Delete the person's data")),
    ("rectification", _("Correct the person's data")),
    ("restriction", _("Stop using the person's data, except to store it")),
]


class ReassignTaskForm(forms.Form):
    """Give a connected-system task to another person."""

    owner_email = forms.EmailField(label=_("E-mail of the person who will do it"))


class StaffTaskAnswerForm(SystemTaskAnswerForm):
    """Staff answer a task themselves, with the owner's choices."""


class SkipTaskForm(forms.Form):
    reason = forms.CharField(label=_("Why this system is skipped"), max_length=2000, widget=forms.Textarea)


class AddTaskForm(forms.Form):
    """A task added by hand: a declared system, or any person by e-mail, and what they are asked to do."""

    system = forms.ChoiceField(label=_("System"), required=False)
    owner_email = forms.EmailField(
        label=_("E-mail of the person who will do it"),
        required=False,
        help_text=_("Leave empty to send it to the system's owner."),
    )
    owner_name = forms.CharField(
        label=_("What they look after"),
        required=False,
        max_length=200,
        help_text=_("For example: Paper archive, Sales team mailbox. Shown on the request's checklist."),
    )
    action = forms.ChoiceField(label=_("What is asked"), choices=TASK_ACTION_CHOICES)
    instructions = forms.CharField(
        label=_("In words"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, systems=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = [("", _("None: a person I name below"))] + [(s.key, s.name) for s in systems]
