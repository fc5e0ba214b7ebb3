"""Data-subject request records, declared for the registry."""

from django.db.models import Q
from django.utils.translation import gettext_noop as _  # marked here, translated where shown (registry.texts)

from registry import LegalBasis as B
from registry import PersonalField as F
from registry import RetentionRule, Strategy, site

site.register(
    "requests_app.DataRequest",
    title=_("Your data-protection requests"),
    description=_("Requests you made to us about your data, and how we answered them."),
    user_path="user",
    email_field="requester_email",
    erase_order=950,
    # Part of the secret status links (rotating it revokes them): a credential, kept out of exports.
    secret_fields=("status_nonce",),
    fields=[
        F(
            "requester_name",
            category="user.name",
            purpose=_("answering data-protection requests"),
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.PSEUDONYMISE,
            retention="closed-requests",
        ),
        F(
            "requester_email",
            category="user.contact.email",
            purpose=_("answering data-protection requests"),
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.PSEUDONYMISE,
            retention="closed-requests",
        ),
        F(
            "details",
            category="user.privacy_preferences",
            purpose=_("answering data-protection requests"),
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.MASK,
            retention="closed-requests",
        ),
        F(
            "user",
            category="user.unique_id",
            purpose=_("answering data-protection requests"),
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.NULL,
        ),
    ],
    retention=[
        RetentionRule(
            name="unverified-requests",
            dataset="requests_app.DataRequest",
            description=_("Requests whose sender never proved who they are are deleted 30 days after they were sent."),
            period_days=30,
            # Counted from when we last asked for verification: staff asking again restarts the window.
            date_field="verification_requested_at",
            filters={
                "status__in": ["awaiting_verification", "awaiting_requester", "expired"],
                "verified_at__isnull": True,
            },
            legal_basis=_("Nothing to answer and no identity proven: kept only long enough to let the sender verify."),
        ),
        RetentionRule(
            name="closed-requests",
            dataset="requests_app.DataRequest",
            description=_(
                "Records of answered, refused, withdrawn or expired requests are deleted 24 months after closing."
            ),
            period_months=24,
            date_field="closed_at",
            action="delete",
            filters={"status__in": ["completed", "denied", "withdrawn", "expired"], "closed_at__isnull": False},
            legal_basis=_("Kept 24 months to show how requests were handled (CCPA record-keeping), then deleted."),
        ),
    ],
)


def _by_request(*, user_ids, emails) -> Q:
    """Rows hanging off the subject's requests: by the request's account or its requester's address."""
    q = Q(data_request__user_id__in=list(user_ids)) if user_ids else Q(pk__in=[])
    for email in emails:
        q |= Q(data_request__requester_email__iexact=email)
    return q


site.register(
    "requests_app.RequestMessage",
    title=_("Messages about your requests"),
    description=_("Messages between you and our privacy team about your requests."),
    lookup=_by_request,
    erase_order=940,
    fields=[
        F(
            "body",
            category="user.content.private",
            purpose=_("answering data-protection requests"),
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.MASK,
        ),
    ],
)


def _attachment_lookup(*, user_ids, emails) -> Q:
    # Result files are the organisation's answers (the erasure report among them), not the requester's data.
    return _by_request(user_ids=user_ids, emails=emails) & Q(purpose="attachment")


site.register(
    "requests_app.RequestFile",
    title=_("Files attached to your requests"),
    description=_("Files you sent with your data-protection requests, such as a proof of identity."),
    lookup=_attachment_lookup,
    # Before the requests themselves are pseudonymised (950), while their addresses still find them.
    erase_order=940,
    file_fields=("file",),
    export_exclude=("uploaded_by",),
    fields=[
        F(
            "file",
            category="user.content.private",
            purpose=_("answering data-protection requests"),
            legal_basis=B.LEGAL_OBLIGATION,
            retention="closed-requests",
        ),
        F(
            "name",
            category="user.content.private",
            purpose=_("answering data-protection requests"),
            legal_basis=B.LEGAL_OBLIGATION,
            retention="closed-requests",
        ),
    ],
)
