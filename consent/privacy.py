"""The consent log and purpose consents, declared for the registry.

The log is proof of consent: erasure keeps each record but unlinks the person and replaces the
browser's consent id with a keyed pseudonym.
"""

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_noop as _  # marked here, translated where shown (registry.texts)

from registry import LegalBasis as B
from registry import PersonalField as F
from registry import RetentionRule, Strategy, site

PROOF = _("proof of consent (GDPR Art. 7(1))")


def _consent_record_lookup(*, user_ids, emails) -> Q:
    from consent.models import ConsentRecord

    if not user_ids:
        return Q(pk__in=[])
    # Choices made in the same browser before logging in belong to the same person; on a shared browser
    # the rows another account made under that consent id are that person's, never this subject's.
    ids = list(ConsentRecord.objects.filter(user_id__in=list(user_ids)).values_list("consent_id", flat=True).distinct())
    return Q(user_id__in=list(user_ids)) | Q(consent_id__in=ids, user__isnull=True)


site.register(
    "consent.ConsentRecord",
    title=_("Cookie consent log"),
    description=_("Each choice you made in our cookie banners, kept as proof of your consent."),
    lookup=_consent_record_lookup,
    erase_order=960,
    retention=[
        RetentionRule(
            name="consent-log",
            dataset="consent.ConsentRecord",
            description=_("Proof of consent choices is deleted %(years)s years after the choice."),
            period_months=12 * settings.CONSENT_LOG_RETENTION_YEARS,
            date_field="created_at",
            legal_basis=_("Kept %(years)s years to prove consent was given (GDPR Art. 7(1)), then deleted."),
            text_args={"years": settings.CONSENT_LOG_RETENTION_YEARS},
        )
    ],
    fields=[
        F("user", category="user.unique_id", purpose=PROOF, legal_basis=B.LEGAL_OBLIGATION, strategy=Strategy.NULL),
        F(
            "consent_id",
            category="user.privacy_preferences",
            purpose=PROOF,
            legal_basis=B.LEGAL_OBLIGATION,
            source=_("your browser"),
            strategy=Strategy.PSEUDONYMISE,
            retention="consent-log",
        ),
        F(
            "choices",
            category="user.privacy_preferences",
            purpose=PROOF,
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.KEEP,
            keep_reason=_("proof of consent (GDPR Art. 7(1)); no longer linked to you"),
            retention="consent-log",
        ),
        F(
            "ip",
            category="user.device.ip_address",
            purpose=PROOF,
            legal_basis=B.LEGAL_OBLIGATION,
            source=_("your browser (truncated)"),
            strategy=Strategy.NULL,
            retention="consent-log",
        ),
        F(
            "user_agent_family",
            category="user.device",
            purpose=PROOF,
            legal_basis=B.LEGAL_OBLIGATION,
            source=_("your browser"),
            strategy=Strategy.KEEP,
            keep_reason=_("proof of consent (GDPR Art. 7(1)); a browser family does not identify you"),
            retention="consent-log",
        ),
    ],
)

site.register(
    "consent.PurposeConsent",
    title=_("Your consents"),
    description=_("Each time you gave or withdrew consent for a purpose such as marketing e-mail."),
    user_path="user",
    erase_order=960,
    fields=[
        F("user", category="user.unique_id", purpose=PROOF, legal_basis=B.LEGAL_OBLIGATION, strategy=Strategy.NULL),
        F(
            "granted",
            category="user.privacy_preferences",
            purpose=PROOF,
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.KEEP,
            keep_reason=_("proof of consent (GDPR Art. 7(1)); no longer linked to you"),
        ),
    ],
)
