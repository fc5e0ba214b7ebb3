"""Policy acceptances and change-notice deliveries, declared for the registry.

Both go with the account: an acceptance proves agreement only while there is an account it binds.
"""

from registry import LegalBasis as B
from registry import PersonalField as F
from registry import site

ACCEPTANCE = "proof that you accepted a changed policy"
NOTICE = "telling you about changes to our policies before they apply"

site.register(
    "policies.PolicyAcceptance",
    title="Policy acceptances",
    description="Which versions of our policies you accepted after a change that affected your rights, and when.",
    user_path="user",
    erase_order=950,
    fields=[
        F("user", category="user.account.id", purpose=ACCEPTANCE, legal_basis=B.LEGAL_OBLIGATION),
        F(
            "ip",
            category="user.device.ip_address",
            purpose=ACCEPTANCE,
            legal_basis=B.LEGAL_OBLIGATION,
            source="your browser (truncated)",
        ),
    ],
)

site.register(
    "policies.NoticeDelivery",
    title="Policy change notices",
    description="The e-mails we sent you about changes to our policies.",
    user_path="user",
    erase_order=950,
    fields=[F("user", category="user.account.id", purpose=NOTICE, legal_basis=B.LEGAL_OBLIGATION)],
)
