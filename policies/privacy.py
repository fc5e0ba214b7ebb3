"""Policy acceptances and change-notice deliveries, declared for the registry.

Both go with the account: an acceptance proves agreement only while there is an account it binds.
"""

from django.utils.translation import gettext_noop as _  # marked here, translated where shown (registry.texts)

from registry import LegalBasis as B
from registry import PersonalField as F
from registry import site

ACCEPTANCE = _("proof that you accepted a changed policy")
NOTICE = _("telling you about changes to our policies before they apply")

site.register(
    "policies.PolicyAcceptance",
    title=_("Policy acceptances"),
    description=_("Which versions of our policies you accepted after a change that affected your rights, and when."),
    user_path="user",
    erase_order=950,
    fields=[
        F("user", category="user.unique_id", purpose=ACCEPTANCE, legal_basis=B.LEGAL_OBLIGATION),
        F(
            "ip",
            category="user.device.ip_address",
            purpose=ACCEPTANCE,
            legal_basis=B.LEGAL_OBLIGATION,
            source=_("your browser (truncated)"),
        ),
    ],
)

site.register(
    "policies.NoticeDelivery",
    title=_("Policy change notices"),
    description=_("The e-mails we sent you about changes to our policies."),
    user_path="user",
    erase_order=950,
    fields=[F("user", category="user.unique_id", purpose=NOTICE, legal_basis=B.LEGAL_OBLIGATION)],
)
