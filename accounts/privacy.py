"""Account data held by Django and django-allauth, registered from outside their apps."""

from django.conf import settings
from django.utils.translation import gettext_noop as _  # marked here, translated where shown (registry.texts)

from registry import LegalBasis as B
from registry import PersonalField as F
from registry import RetentionRule, site

ACCOUNT = "inactive-accounts"  # an account lives while it is used

site.register(
    "auth.User",
    title=_("Your account"),
    description=_("Your login, name and e-mail address. Deleted last when you ask us to erase your data."),
    user_path="pk",
    email_field="email",
    rectifiable=True,
    # The login e-mail changes through the account's e-mail page (with confirmation), never here.
    rectify_fields=("first_name", "last_name"),
    erase_order=1000,
    retention=[
        RetentionRule(
            name=ACCOUNT,
            dataset=settings.AUTH_USER_MODEL,
            description=_("Accounts nobody has logged in to are warned, then deleted unless the user logs in."),
            period_months=settings.INACTIVE_ACCOUNT_WARNING_MONTHS,
            date_field="last_login",
            action="inactive_accounts",
            legal_basis=_(
                "Storage limitation: an unused account is no longer needed. Warned after %(months)s months "
                "without a login, deleted %(days)s days later unless the user logs in."
            ),
            text_args={
                "months": settings.INACTIVE_ACCOUNT_WARNING_MONTHS,
                "days": settings.INACTIVE_ACCOUNT_GRACE_DAYS,
            },
        )
    ],
    fields=[
        F(
            "username",
            category="user.account.username",
            purpose=_("providing the service"),
            legal_basis=B.CONTRACT,
            retention=ACCOUNT,
        ),
        F(
            "email",
            category="user.contact.email",
            purpose=_("providing the service"),
            legal_basis=B.CONTRACT,
            retention=ACCOUNT,
        ),
        F(
            "first_name",
            category="user.name",
            purpose=_("providing the service"),
            legal_basis=B.CONTRACT,
            retention=ACCOUNT,
        ),
        F(
            "last_name",
            category="user.name",
            purpose=_("providing the service"),
            legal_basis=B.CONTRACT,
            retention=ACCOUNT,
        ),
        F(
            "password",
            category="user.authorization.credentials",
            purpose=_("security"),
            legal_basis=B.CONTRACT,
            retention=ACCOUNT,
            secret=True,  # a hash, but one that can be attacked offline: never in an export
        ),
    ],
)

site.register(
    "account.EmailAddress",
    title=_("E-mail addresses"),
    description=_("The e-mail addresses on your account and whether you confirmed them."),
    user_path="user",
    email_field="email",
    erase_order=900,
    fields=[F("email", category="user.contact.email", purpose=_("providing the service"), legal_basis=B.CONTRACT)],
)

site.register(
    "usersessions.UserSession",
    title=_("Login sessions"),
    description=_("Where and with which browser you are logged in, so that you can sign out other devices."),
    user_path="user",
    erase_order=900,
    # The session key is the session cookie: whoever holds it is logged in as the user.
    secret_fields=("session_key",),
    fields=[
        F(
            "ip",
            category="user.device.ip_address",
            purpose=_("security"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your browser"),
        ),
        F(
            "user_agent",
            category="user.device",
            purpose=_("security"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your browser"),
        ),
    ],
)
