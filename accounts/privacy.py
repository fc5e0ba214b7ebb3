"""Account data held by Django and django-allauth, registered from outside their apps."""

from registry import LegalBasis as B
from registry import PersonalField as F
from registry import site

site.register(
    "auth.User",
    title="Your account",
    description="Your login, name and e-mail address. Deleted last when you ask us to erase your data.",
    user_path="pk",
    email_field="email",
    rectifiable=True,
    # The login e-mail changes through the account's e-mail page (with confirmation), never here.
    rectify_fields=("first_name", "last_name"),
    erase_order=1000,
    export_exclude=("password",),
    fields=[
        F("username", category="user.account.username", purpose="providing the service", legal_basis=B.CONTRACT),
        F("email", category="user.contact.email", purpose="providing the service", legal_basis=B.CONTRACT),
        F("first_name", category="user.contact.name", purpose="providing the service", legal_basis=B.CONTRACT),
        F("last_name", category="user.contact.name", purpose="providing the service", legal_basis=B.CONTRACT),
        F("password", category="user.account.credentials", purpose="security", legal_basis=B.CONTRACT),
    ],
)

site.register(
    "account.EmailAddress",
    title="E-mail addresses",
    description="The e-mail addresses on your account and whether you confirmed them.",
    user_path="user",
    email_field="email",
    erase_order=900,
    fields=[F("email", category="user.contact.email", purpose="providing the service", legal_basis=B.CONTRACT)],
)

site.register(
    "usersessions.UserSession",
    title="Login sessions",
    description="Where and with which browser you are logged in, so that you can sign out other devices.",
    user_path="user",
    erase_order=900,
    fields=[
        F(
            "ip",
            category="user.device.ip_address",
            purpose="security",
            legal_basis=B.LEGITIMATE_INTERESTS,
            source="your browser",
        ),
        F(
            "user_agent",
            category="user.device.user_agent",
            purpose="security",
            legal_basis=B.LEGITIMATE_INTERESTS,
            source="your browser",
        ),
    ],
)
