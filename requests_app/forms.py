"""Forms validate input only; the views hand clean data to the services."""

from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from core.languages import language_choices
from requests_app.models import Channel, DenialReason, Jurisdiction, Relationship, RequestKind

# Accepted attachment types: extension -> (MIME type, a check on the first bytes).
ALLOWED_ATTACHMENTS = {
    ".pdf": ("application/pdf", lambda head: head.startswith(b"%PDF-")),
    ".png": ("image/png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ".jpg": ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ".jpeg": ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ".txt": ("text/plain", lambda head: b"\x00" not in head),
}

KIND_EXPLANATIONS = {
    RequestKind.ACCESS: _("Get a copy of the personal data we hold about you, and how we use it."),
    RequestKind.PORTABILITY: _("Get the data you gave us in a machine-readable file you can take elsewhere."),
    RequestKind.RECTIFICATION: _("Ask us to correct or complete data about you that is wrong or incomplete."),
    RequestKind.ERASURE: _("Ask us to delete your data, including closing your account."),
    RequestKind.RESTRICTION: _(
        "Ask us to keep your data but stop using it for a while, e.g. while a dispute is settled."
    ),
    RequestKind.OBJECTION: _("Object to a use of your data, including direct marketing."),
    RequestKind.OPT_OUT: _("Tell us not to sell or share your personal data."),
    RequestKind.WITHDRAW_CONSENT: _("Take back a consent you gave us earlier; it stops future use based on it."),
    RequestKind.COMPLAINT: _("Tell us what went wrong with how we handle your data, so that we can put it right."),
}


class DataRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("What would you like us to do?"), choices=RequestKind.choices)
    requester_name = forms.CharField(label=_("Your full name"), max_length=200)
    requester_email = forms.EmailField(
        label=_("Your e-mail address"),
        help_text=_("We send a link to this address to check that the request comes from you."),
    )
    relationship = forms.ChoiceField(label=_("Your relationship with us"), choices=Relationship.choices)
    jurisdiction = forms.ChoiceField(
        label=_("Where do you live?"),
        choices=Jurisdiction.choices,
        help_text=_("This decides which law applies and how long we may take to answer."),
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Anything that helps us find your data or understand your request."),
    )
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_ATTACHMENTS)}),
    )
    # Honeypot: hidden from people with CSS; bots that fill every field are dropped.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = filesizeformat(settings.DSR_ATTACHMENT_MAX_BYTES)
        self.fields["attachment"].help_text = _("PDF, PNG, JPEG or plain text, at most %(limit)s.") % {"limit": limit}
        self.fields["requester_name"].widget.attrs["autocomplete"] = "name"
        self.fields["requester_email"].widget.attrs["autocomplete"] = "email"
        self.fields["kind"].widget.attrs["aria-describedby"] = "kind-explanations"

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if not upload:
            return None
        if upload.size > settings.DSR_ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large (at most %(limit)s).")
                % {"limit": filesizeformat(settings.DSR_ATTACHMENT_MAX_BYTES)},
                code="too_large",
            )
        ext = Path(upload.name).suffix.lower()
        allowed = ALLOWED_ATTACHMENTS.get(ext)
        head = upload.read(16)
        upload.seek(0)
        if allowed is None or not allowed[1](head):
            raise forms.ValidationError(
                _("This type of file is not accepted. Use PDF, PNG, JPEG or plain text."), code="bad_type"
            )
        upload.content_type = allowed[0]
        return upload


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))


# --- staff (admin) forms -------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reasons (sent to the requester)"), widget=forms.Textarea(attrs={"rows": 4, "cols": 80})
    )


class InformationForm(forms.Form):
    message = forms.CharField(
        label=_("What do you need from the requester?"), widget=forms.Textarea(attrs={"rows": 4, "cols": 80})
    )


class DenyForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=DenialReason.choices)
    requester_text = forms.CharField(
        label=_("Explanation for the requester"), widget=forms.Textarea(attrs={"rows": 5, "cols": 80})
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class CompleteForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary for the requester"), widget=forms.Textarea(attrs={"rows": 5, "cols": 80})
    )
    files = MultipleFileField(label=_("Result files"), required=False)


class StaffMessageForm(forms.Form):
    body = forms.CharField(label=_("Message to the requester"), widget=forms.Textarea(attrs={"rows": 4, "cols": 80}))


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))


class StaffIntakeForm(forms.Form):
    """A request received by phone, post or e-mail, entered by staff."""

    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[(c.value, c.label) for c in (Channel.PHONE, Channel.POST, Channel.EMAIL)],
        help_text=_("How the request was made (kept in the request log)."),
    )
    received_on = forms.DateField(
        label=_("Date received"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The legal deadline runs from this date."),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=RequestKind.choices)
    requester_name = forms.CharField(label=_("Requester's name"), max_length=200)
    requester_email = forms.EmailField(
        label=_("Requester's e-mail address"),
        help_text=_("The acknowledgement, the status link and all updates are sent here."),
    )
    relationship = forms.ChoiceField(label=_("Relationship"), choices=Relationship.choices)
    jurisdiction = forms.ChoiceField(label=_("Place of residence"), choices=Jurisdiction.choices)
    language = forms.ChoiceField(label=_("Language for mails"), choices=language_choices)
    details = forms.CharField(
        label=_("Details"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5, "cols": 80})
    )
    identity_verified = forms.BooleanField(
        label=_("Identity already checked"),
        required=False,
        help_text=_("Tick only if you checked who the requester is; otherwise a verification link is e-mailed."),
    )

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        if today is not None:
            self.fields["received_on"].initial = today
            self.fields["received_on"].widget.attrs["max"] = today.isoformat()
        self.fields["language"].initial = settings.LANGUAGE_CODE

    def clean_received_on(self):
        value = self.cleaned_data["received_on"]
        if self.today is not None and value > self.today:
            raise forms.ValidationError(_("The date received cannot be in the future."), code="future")
        return value


class BulkAssignForm(forms.Form):
    """Whom the requests chosen in the queue go to."""

    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=None)

    def __init__(self, *args, **kwargs):
        from requests_app.selectors import list_assignable_staff

        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = list_assignable_staff().order_by("first_name", "last_name", "email")
        field.label_from_instance = self.assignee_label

    @staticmethod
    def assignee_label(user) -> str:
        return user.get_full_name() or user.get_username()
