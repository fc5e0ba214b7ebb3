"""The dotted data-category taxonomy every registered field is filed under."""

from django.utils.translation import gettext, gettext_noop

DATA_CATEGORIES: dict[str, str] = {
    "user.account.id": gettext_noop("Account identifier"),
    "user.account.username": gettext_noop("User name"),
    "user.account.credentials": gettext_noop("Login credentials"),
    "user.account.settings": gettext_noop("Account settings"),
    "user.contact.email": gettext_noop("E-mail address"),
    "user.contact.name": gettext_noop("Name"),
    "user.contact.phone": gettext_noop("Telephone number"),
    "user.contact.address": gettext_noop("Postal address"),
    "user.job.title": gettext_noop("Job title"),
    "user.job.company": gettext_noop("Company"),
    "user.preferences.time_zone": gettext_noop("Time zone"),
    "user.preferences.subscriptions": gettext_noop("Mailing-list subscriptions"),
    "user.communication.content": gettext_noop("Messages and conversations"),
    "user.content.comment": gettext_noop("Published comments"),
    "user.content.file": gettext_noop("Uploaded files"),
    "user.device.ip_address": gettext_noop("IP address"),
    "user.device.user_agent": gettext_noop("Browser and device type"),
    "user.device.model": gettext_noop("Device model"),
    "user.device.serial_number": gettext_noop("Device serial number"),
    "user.device.software_version": gettext_noop("Software version"),
    "user.device.telemetry": gettext_noop("Device telemetry"),
    "user.behaviour.browsing": gettext_noop("Pages visited"),
    "user.financial.billing_address": gettext_noop("Billing address"),
    "user.financial.order": gettext_noop("Purchases"),
    "user.financial.invoice": gettext_noop("Invoices"),
    "user.financial.tax_id": gettext_noop("VAT number"),
    "user.consent.record": gettext_noop("Consent choices"),
    "user.request.record": gettext_noop("Data-protection requests"),
}


def category_label(category: str) -> str:
    """Human-readable name of a category in the active language (falls back to the dotted code)."""
    return gettext(DATA_CATEGORIES[category]) if category in DATA_CATEGORIES else category
