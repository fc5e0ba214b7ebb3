"""The personal data the organisation's product holds, declared for the registry."""

from django.db.models import Q
from django.utils.translation import gettext_noop as _  # marked here, translated where shown (registry.texts)

from registry import LegalBasis as B
from registry import PersonalField as F
from registry import RetentionRule, Strategy, site

PAYMENT_PROVIDER = _("Payment provider (processor)")
MAIL_PROVIDER = _("E-mail delivery provider (processor)")
HOSTING = _("Hosting provider (processor)")
TAX_AUTHORITY = _("Tax authority")

site.register(
    "demo.Profile",
    title=_("Account profile"),
    description=_("Your job, company and time zone, shown in the product and used to address you."),
    user_path="user",
    rectifiable=True,
    erase_order=10,
    fields=[
        F("job_title", category="user.job_title", purpose=_("providing the service"), legal_basis=B.CONTRACT),
        F("company", category="user.workplace", purpose=_("providing the service"), legal_basis=B.CONTRACT),
        F(
            "time_zone",
            category="user.account.settings",
            purpose=_("providing the service"),
            legal_basis=B.CONTRACT,
        ),
        F("phone", category="user.contact.phone_number", purpose=_("customer support"), legal_basis=B.CONTRACT),
    ],
)

site.register(
    "demo.NewsletterSubscription",
    title=_("Newsletter subscriptions"),
    description=_("The mailing lists you subscribed to."),
    user_path="user",
    email_field="email",
    erase_order=10,
    rectifiable=True,
    rectify_fields=("email",),
    fields=[
        F(
            "email",
            category="user.contact.email",
            purpose=_("marketing"),
            legal_basis=B.CONSENT,
            recipients=(MAIL_PROVIDER,),
            retention="newsletter-unsubscribed",
        ),
        F("list_name", category="user.privacy_preferences", purpose=_("marketing"), legal_basis=B.CONSENT),
        F(
            "signup_ip",
            category="user.device.ip_address",
            purpose=_("proof of consent"),
            legal_basis=B.LEGAL_OBLIGATION,
        ),
    ],
    retention=[
        RetentionRule(
            name="newsletter-unsubscribed",
            dataset="demo.NewsletterSubscription",
            description=_("Subscriptions are deleted 30 days after unsubscribing."),
            period_days=30,
            date_field="unsubscribed_at",
            filters={"unsubscribed_at__isnull": False},
            legal_basis=_("Consent withdrawn: kept 30 days to honour the unsubscription everywhere, then deleted."),
        )
    ],
)

site.register(
    "demo.SupportConversation",
    title=_("Support conversations"),
    description=_("E-mails you exchanged with our support team, copied from the help-desk mailbox."),
    user_path="user",
    email_field="email",
    erase_order=20,
    rectifiable=True,
    rectify_fields=("customer_name", "email"),
    fields=[
        F(
            "email",
            category="user.contact.email",
            purpose=_("customer support"),
            legal_basis=B.CONTRACT,
            source=_("your e-mails to support"),
            retention="support-closed",
        ),
        F(
            "customer_name",
            category="user.name",
            purpose=_("customer support"),
            legal_basis=B.CONTRACT,
            source=_("your e-mails to support"),
            retention="support-closed",
        ),
        F(
            "subject",
            category="user.content.private",
            purpose=_("customer support"),
            legal_basis=B.CONTRACT,
            source=_("your e-mails to support"),
            retention="support-closed",
        ),
    ],
    retention=[
        RetentionRule(
            name="support-closed",
            dataset="demo.SupportConversation",
            description=_("Support conversations (and their messages) are deleted 2 years after they were closed."),
            period_months=24,
            date_field="closed_at",
            filters={"status": "closed"},
            legal_basis=_("Kept 2 years after closing to answer follow-up questions, then no longer needed."),
        )
    ],
)


def _support_message_lookup(*, user_ids, emails) -> Q:
    q = Q(conversation__user_id__in=list(user_ids)) if user_ids else Q(pk__in=[])
    for email in emails:
        q |= Q(conversation__email__iexact=email) | Q(sender_email__iexact=email)
    return q


site.register(
    "demo.SupportMessage",
    title=_("Support messages"),
    description=_("The text of each support e-mail."),
    lookup=_support_message_lookup,
    erase_order=15,
    fields=[
        F(
            "sender_email",
            category="user.contact.email",
            purpose=_("customer support"),
            legal_basis=B.CONTRACT,
            source=_("your e-mails to support"),
            retention="support-messages-closed",
        ),
        F(
            "body",
            category="user.content.private",
            purpose=_("customer support"),
            legal_basis=B.CONTRACT,
            source=_("your e-mails to support"),
            retention="support-messages-closed",
        ),
    ],
    retention=[
        RetentionRule(
            name="support-messages-closed",
            dataset="demo.SupportMessage",
            description=_("Messages of support conversations are deleted 2 years after the conversation closed."),
            period_months=24,
            date_field="conversation__closed_at",
            filters={"conversation__status": "closed"},
            legal_basis=_("Kept 2 years after closing to answer follow-up questions, then no longer needed."),
        )
    ],
)

site.register(
    "demo.BlogComment",
    title=_("Blog comments"),
    description=_("Comments you posted on our blog, with the IP address they came from."),
    user_path="user",
    email_field="author_email",
    erase_order=20,
    rectifiable=True,
    rectify_fields=("author_name", "author_email"),
    fields=[
        F("author_name", category="user.name", purpose=_("publishing your comment"), legal_basis=B.CONSENT),
        F("author_email", category="user.contact.email", purpose=_("publishing your comment"), legal_basis=B.CONSENT),
        F("body", category="user.content.public", purpose=_("publishing your comment"), legal_basis=B.CONSENT),
        F(
            "ip_address",
            category="user.device.ip_address",
            purpose=_("preventing spam and abuse"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your browser"),
            retention="comment-ip",
        ),
    ],
    retention=[
        RetentionRule(
            name="comment-ip",
            dataset="demo.BlogComment",
            description=_("IP addresses of blog comments are cleared 30 days after the comment."),
            period_days=30,
            date_field="created_at",
            action="null",
            fields=("ip_address",),
            legal_basis=_("Needed only to deal with abuse of a recent comment (legitimate interest), then cleared."),
        )
    ],
)

site.register(
    "demo.TrafficLog",
    title=_("Traffic logs"),
    description=_("Pages you requested on our product, used for security and statistics and then removed."),
    user_path="user",
    erase_order=20,
    fields=[
        F(
            "ip_address",
            category="user.device.ip_address",
            purpose=_("security and statistics"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your browser"),
            recipients=(HOSTING,),
            retention="traffic-logs",
        ),
        F(
            "path",
            category="user.behavior.browsing_history",
            purpose=_("security and statistics"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your browser"),
            retention="traffic-logs",
        ),
        F(
            "user_agent",
            category="user.device",
            purpose=_("security and statistics"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your browser"),
            retention="traffic-logs",
        ),
    ],
    retention=[
        RetentionRule(
            name="traffic-logs",
            dataset="demo.TrafficLog",
            description=_("Traffic logs are deleted 90 days after the visit, once the statistics are made."),
            period_days=90,
            date_field="created_at",
            legal_basis=_("Used for statistics, then removed (storage limitation)."),
        )
    ],
)

site.register(
    "demo.Order",
    title=_("Orders"),
    description=_("What you bought. Payment is handled by our payment provider."),
    user_path="user",
    erase_order=30,
    # Billing details of past orders can be corrected; issued invoices cannot (tax law).
    rectifiable=True,
    rectify_fields=("billing_name", "billing_address"),
    fields=[
        F(
            "user",
            category="user.unique_id",
            purpose=_("selling our products"),
            legal_basis=B.CONTRACT,
            strategy=Strategy.NULL,
        ),
        F(
            "billing_name",
            category="user.name",
            purpose=_("selling our products"),
            legal_basis=B.CONTRACT,
            recipients=(PAYMENT_PROVIDER,),
            strategy=Strategy.MASK,
            retention="orders",
        ),
        F(
            "billing_address",
            category="user.contact.address",
            purpose=_("selling our products"),
            legal_basis=B.CONTRACT,
            recipients=(PAYMENT_PROVIDER,),
            strategy=Strategy.MASK,
            retention="orders",
        ),
        F(
            "product",
            category="user.behavior.purchase_history",
            purpose=_("selling our products"),
            legal_basis=B.CONTRACT,
            strategy=Strategy.KEEP,
            keep_reason=_("not personal once the order is anonymised; sales statistics"),
        ),
    ],
    retention=[
        RetentionRule(
            name="orders",
            dataset="demo.Order",
            description=_("Orders are deleted 3 years after purchase."),
            period_months=36,
            date_field="placed_at",
            legal_basis=_("Kept for the warranty period, then no longer needed."),
        )
    ],
)

site.register(
    "demo.Invoice",
    title=_("Invoices"),
    description=_("Invoices to your company. Tax law requires us to keep them for seven years."),
    user_path="user",
    erase_order=30,
    fields=[
        F(
            "user",
            category="user.unique_id",
            purpose=_("accounting"),
            legal_basis=B.LEGAL_OBLIGATION,
            strategy=Strategy.NULL,
        ),
        F(
            "billing_company",
            category="user.workplace",
            purpose=_("accounting"),
            legal_basis=B.LEGAL_OBLIGATION,
            recipients=(TAX_AUTHORITY,),
            strategy=Strategy.KEEP,
            keep_reason=_("tax law: invoices are kept for seven years"),
            retention="invoices-tax",
        ),
        F(
            "billing_address",
            category="user.contact.address",
            purpose=_("accounting"),
            legal_basis=B.LEGAL_OBLIGATION,
            recipients=(TAX_AUTHORITY,),
            strategy=Strategy.KEEP,
            keep_reason=_("tax law: invoices are kept for seven years"),
            retention="invoices-tax",
        ),
        F(
            "vat_number",
            category="user.financial",
            purpose=_("accounting"),
            legal_basis=B.LEGAL_OBLIGATION,
            recipients=(TAX_AUTHORITY,),
            strategy=Strategy.KEEP,
            keep_reason=_("tax law: invoices are kept for seven years"),
            retention="invoices-tax",
        ),
    ],
    retention=[
        RetentionRule(
            name="invoices-tax",
            dataset="demo.Invoice",
            description=_("Invoices are kept 7 years after they were issued, then deleted."),
            period_months=84,
            date_field="issued_at",
            legal_basis=_("Legal obligation: accounting and tax law require invoices to be kept 7 years."),
        )
    ],
)

site.register(
    "demo.DeviceTelemetry",
    title=_("Device telemetry"),
    description=_("Reports from your devices: model, serial number, software version and battery level."),
    user_path="user",
    erase_order=20,
    fields=[
        F(
            "device_model",
            category="user.device",
            purpose=_("product improvement and support"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your device"),
            retention="telemetry",
        ),
        F(
            "serial_number",
            category="user.device.device_id",
            purpose=_("product improvement and support"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your device"),
            retention="telemetry",
        ),
        F(
            "software_version",
            category="user.device",
            purpose=_("product improvement and support"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your device"),
            retention="telemetry",
        ),
        F(
            "battery_level",
            category="user.telemetry",
            purpose=_("product improvement and support"),
            legal_basis=B.LEGITIMATE_INTERESTS,
            source=_("your device"),
            retention="telemetry",
        ),
    ],
    retention=[
        RetentionRule(
            name="telemetry",
            dataset="demo.DeviceTelemetry",
            description=_("Device telemetry is deleted 1 year after it was recorded."),
            period_months=12,
            date_field="recorded_at",
            legal_basis=_("Needed for a year of diagnostics and product quality, then no longer needed."),
        )
    ],
)

site.register(
    "demo.UploadedFile",
    title=_("Uploaded files"),
    description=_("Files you uploaded to the product; kept while your account exists."),
    user_path="user",
    erase_order=20,
    file_fields=("file",),
    fields=[
        F("file", category="user.content.private", purpose=_("providing the service"), legal_basis=B.CONTRACT),
        F("original_name", category="user.content.private", purpose=_("providing the service"), legal_basis=B.CONTRACT),
    ],
)
