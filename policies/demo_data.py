"""Demo policies: a privacy policy with history, a cookie policy and terms of use.

The version in force of each document is not a material change, so demo users are never stopped
at login; a material draft is left for staff to try publishing in admin.
"""

from datetime import timedelta

from django.utils import timezone

from policies.models import DocumentKind
from policies.services import create_version, ensure_document, publish_version

PRIVACY_V1 = """\
# Who we are

{org} runs this website and the services you reach through it. We decide why and how your
personal data is used, so we are the controller of that data.

# What we collect

- **Account details**: your name, e-mail address and a protected copy of your password.
- **Orders**: what you bought, when, and the invoice address.
- **Support conversations**: the messages you send us and our replies.
- **Technical data**: your IP address and browser type when you visit, kept in server logs.

# Why we use it

We use your data to run your account, deliver what you ordered, answer your questions and keep
the service secure. We send service messages about your account; we only send newsletters if you
asked for them.

# How long we keep it

We keep account details while your account is open. Server logs are deleted after 90 days.
Invoices are kept for as long as tax law requires.

# Your rights

You can ask for a copy of your data, have it corrected or deleted, restrict or object to its use,
and take it with you to another service. Use the *Data requests* page; we answer within 30 days.
"""

PRIVACY_V2 = """\
# Who we are

{org} runs this website and the services you reach through it. We decide why and how your
personal data is used, so we are the controller of that data.

# What we collect

- **Account details**: your name, e-mail address and a protected copy of your password.
- **Orders**: what you bought, when, and the invoice address. Payments are handled by our payment
  provider; we never see your full card number.
- **Support conversations**: the messages you send us and our replies.
- **Technical data**: your IP address and browser type when you visit, kept in server logs.
- **Comments**: what you post under our articles, with the IP address it came from.

# Why we use it

We use your data to run your account, deliver what you ordered, answer your questions and keep
the service secure. We send service messages about your account; we only send newsletters if you
asked for them, and every newsletter has a one-click unsubscribe link.

# How long we keep it

We keep account details while your account is open. Server logs are deleted after 90 days.
The IP address stored with a comment is removed after 30 days.
Invoices are kept for as long as tax law requires.

# Your rights

You can ask for a copy of your data, have it corrected or deleted, restrict or object to its use,
and take it with you to another service. Use the *Data requests* page; we answer within 30 days.
"""

PRIVACY_V3 = """\
# Who we are

{org} runs this website and the services you reach through it. We decide why and how your
personal data is used, so we are the controller of that data. You can reach our data-protection
officer through the contact details at the bottom of every page.

# What we collect

- **Account details**: your name, e-mail address and a protected copy of your password.
- **Orders**: what you bought, when, and the invoice address. Payments are handled by our payment
  provider; we never see your full card number.
- **Support conversations**: the messages you send us and our replies.
- **Technical data**: your IP address and browser type when you visit, kept in server logs.
- **Comments**: what you post under our articles, with the IP address it came from.

# Why we use it

We use your data to run your account, deliver what you ordered, answer your questions and keep
the service secure. We send service messages about your account; we only send newsletters if you
asked for them, and every newsletter has a one-click unsubscribe link.

# How long we keep it

We keep account details while your account is open. Server logs are deleted after {{{{ retention:traffic-logs }}}}.
The IP address stored with a comment is removed after {{{{ retention:comment-ip }}}}.
Invoices are kept for as long as tax law requires.

# Your rights

You can ask for a copy of your data, have it corrected or deleted, restrict or object to its use,
and take it with you to another service. Use the *Data requests* page; we answer within 30 days.
If you are not satisfied with our answer, you may complain to the supervisory authority named
below.
"""

PRIVACY_DRAFT = PRIVACY_V3.replace(
    "We use your data to run your account,",
    "We use your data to run your account, to improve our products with usage statistics,",
)

COOKIES_V1 = """\
# Cookies on our websites

A cookie is a small file a website stores in your browser. We group ours in three categories:

| Category | What it does | Needs your consent |
| --- | --- | --- |
| Strictly necessary | Keeps you signed in and remembers your cookie choice | No |
| Performance | Counts visits so we can see which pages work | Yes |
| Targeting | Shows you relevant adverts on other sites | Yes |

You can change your choice at any time under *Cookie settings*. If our use of cookies changes, we
ask you again at your next visit.
"""

TERMS_V1 = """\
# Using our services

These terms apply when you create an account with {org}.

1. Keep your password to yourself and tell us if you think someone else used your account.
2. Do not post anything unlawful or anything that infringes someone else's rights.
3. You can close your account whenever you like from your account page.
4. We tell you by e-mail before we change these terms in a way that affects your rights.
"""


def seed(*, users: int, stdout) -> None:
    """Create the three documents and their published versions (skipped if they already exist)."""
    from core.selectors import get_organisation

    org = get_organisation().name
    now = timezone.now()
    created = 0
    privacy = ensure_document(kind=DocumentKind.PRIVACY, title="Privacy policy")
    if not privacy.versions.exists():
        history = [
            (PRIVACY_V1, "First version.", now - timedelta(days=420)),
            (
                PRIVACY_V2,
                "We now explain how payments and article comments are handled, and how long comment IP addresses are kept.",
                now - timedelta(days=200),
            ),
            (
                PRIVACY_V3,
                "We now state how long server logs are kept as it is enforced, and we say how to complain to the authority.",
                now - timedelta(days=21),
            ),
        ]
        for body, summary, when in history:
            version = create_version(document=privacy, body=body.format(org=org), summary=summary)
            publish_version(version=version, now=when)
            created += 1
        create_version(
            document=privacy,
            body=PRIVACY_DRAFT.format(org=org),
            summary="We would start using usage statistics to improve our products.",
            is_material=True,
        )
    for kind, title, body in (
        (DocumentKind.COOKIES, "Cookie policy", COOKIES_V1),
        (DocumentKind.TERMS, "Terms of use", TERMS_V1),
    ):
        document = ensure_document(kind=kind, title=title)
        if not document.versions.exists():
            version = create_version(document=document, body=body.format(org=org), summary="First version.")
            publish_version(version=version, now=now - timedelta(days=420))
            created += 1
    stdout.write(f"Policies: {created} version(s) published.")
