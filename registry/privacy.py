"""Personal data the fulfilment engine itself must answer for, registered from outside its app.

The files requesters attach to their requests (often a proof of identity) belong in their exports and go
when they are erased. Registered here only if requests_app does not register them itself.
"""

from django.apps import apps
from django.db.models import Q
from django.utils.translation import gettext_noop as _  # marked here, translated where shown (registry.texts)

from registry.sites import LegalBasis, PersonalField, site

ATTACHMENTS = "requests_app.RequestFile"


def _attachment_lookup(*, user_ids, emails) -> Q:
    q = Q(data_request__user_id__in=list(user_ids)) if user_ids else Q(pk__in=[])
    for email in emails:
        q |= Q(data_request__requester_email__iexact=email)
    # Result files are the organisation's answers (the erasure report among them), not the requester's data.
    return q & Q(purpose="attachment")


if apps.is_installed("requests_app") and not site.is_registered(ATTACHMENTS):
    _purpose = _("answering data-protection requests")
    site.register(
        ATTACHMENTS,
        title=_("Files attached to your requests"),
        description=_("Files you sent with your data-protection requests, such as a proof of identity."),
        lookup=_attachment_lookup,
        # Before the requests themselves are pseudonymised (950), while their addresses still find them.
        erase_order=940,
        file_fields=("file",),
        export_exclude=("uploaded_by",),
        fields=[
            PersonalField(
                "file",
                category="user.content.file",
                purpose=_purpose,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention="closed-requests",
            ),
            PersonalField(
                "name",
                category="user.content.file",
                purpose=_purpose,
                legal_basis=LegalBasis.LEGAL_OBLIGATION,
                retention="closed-requests",
            ),
        ],
    )
