"""Fulfilment's records about a person, declared for the registry: the propagation ledger (who was told of their
opt-outs, withdrawals, restrictions and erasures) and the connected systems' tasks their requests opened.

Both are in the person's access export; erasure unlinks the ledger from them and keeps what proves the recipients
were told.
"""

from django.db.models import Q
from django.utils.translation import gettext_noop as _  # marked here, translated where shown (registry.texts)

from registry import LegalBasis as B
from registry import PersonalField as F
from registry import Strategy, site

TELLING = _("telling the recipients of your data what you asked (GDPR Art. 19, CCPA opt-outs)")
TOLD_PROOF = _("proof that the recipients were told (GDPR Art. 19, CCPA); no longer linked to you")
REQUESTS = _("answering data-protection requests")


def _request_q(*, user_ids, emails) -> Q:
    q = Q(pk__in=[])
    if user_ids:
        q |= Q(data_request__user_id__in=list(user_ids))
    for email in emails:
        q |= Q(data_request__requester_email__iexact=email)
    return q


def _propagation_lookup(*, user_ids, emails) -> Q:
    # A notice outside a request names the account (and, until confirmed, its address); a request's notices are
    # found through the request.
    q = _request_q(user_ids=user_ids, emails=emails)
    if user_ids:
        q |= Q(user_id__in=list(user_ids))
    for email in emails:
        q |= Q(subject_email__iexact=email)
    return q


site.register(
    "fulfilment.Propagation",
    title=_("Recipients told of your choices"),
    description=_(
        "Each third party or system we told when you opted out, withdrew a consent, or had your data restricted "
        "or erased, by when the law wants it, and whether it confirmed."
    ),
    lookup=_propagation_lookup,
    secret_fields=("token_hash", "token_expires_at"),
    fields=[
        F(
            "subject_email",
            category="user.contact.email",
            purpose=TELLING,
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.PSEUDONYMISE,
        ),
        F(
            "user_id",
            category="user.unique_id",
            purpose=TELLING,
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.NULL,
        ),
        F(
            "purpose",
            category="user.privacy_preferences",
            purpose=TELLING,
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.KEEP,
            keep_reason=TOLD_PROOF,
        ),
        F(
            "event",
            category="user.privacy_preferences",
            purpose=TELLING,
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.KEEP,
            keep_reason=TOLD_PROOF,
        ),
    ],
)

site.register(
    "fulfilment.SystemTask",
    title=_("Searches of our other systems"),
    description=_("The work your requests asked of our other systems and of the people who look after them."),
    lookup=_request_q,
    secret_fields=("token_hash", "token_expires_at"),
    # The data a system sent back is in the export under that system's own datasets.
    export_exclude=("result",),
    fields=[
        F(
            "answer_note",
            category="user.privacy_preferences",
            purpose=REQUESTS,
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.MASK,
        ),
        F(
            "instructions",
            category="user.privacy_preferences",
            purpose=REQUESTS,
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.MASK,
        ),
    ],
)
