"""The data-category taxonomy every declared field is filed under: the keys of fideslang's default taxonomy.

Fideslang is the public taxonomy of Fides and of its users' datasets, so a dataset declared elsewhere in those
keys needs no translation. The package itself is not a dependency (its pins do not fit ours); a test checks
every key here against its default taxonomy.
"""

from django.utils.translation import gettext, gettext_noop

# Labels reuse the wording the portal had before the move, so that their translations still apply.
DATA_CATEGORIES: dict[str, str] = {
    "user.unique_id": gettext_noop("Account identifier"),
    "user.account.username": gettext_noop("User name"),
    "user.account.settings": gettext_noop("Account settings"),
    "user.authorization.credentials": gettext_noop("Login credentials"),
    "user.authorization.password": gettext_noop("Password"),
    "user.name": gettext_noop("Name"),
    "user.name.first": gettext_noop("First name"),
    "user.name.last": gettext_noop("Last name"),
    "user.contact.email": gettext_noop("E-mail address"),
    "user.contact.phone_number": gettext_noop("Telephone number"),
    "user.contact.address": gettext_noop("Postal address"),
    "user.contact.address.city": gettext_noop("City"),
    "user.contact.address.country": gettext_noop("Country"),
    "user.contact.address.postal_code": gettext_noop("Postal code"),
    "user.contact.address.street": gettext_noop("Street address"),
    "user.contact.url": gettext_noop("Websites and profiles"),
    "user.demographic.date_of_birth": gettext_noop("Date of birth"),
    "user.demographic.gender": gettext_noop("Gender"),
    "user.demographic.language": gettext_noop("Language"),
    "user.job_title": gettext_noop("Job title"),
    "user.workplace": gettext_noop("Company"),
    "user.privacy_preferences": gettext_noop("Consent choices"),
    "user.content.private": gettext_noop("Messages and conversations"),
    "user.content.public": gettext_noop("Published comments"),
    "user.device": gettext_noop("Browser and device type"),
    "user.device.device_id": gettext_noop("Device serial number"),
    "user.device.ip_address": gettext_noop("IP address"),
    "user.device.cookie_id": gettext_noop("Cookie identifier"),
    "user.telemetry": gettext_noop("Device telemetry"),
    "user.location.precise": gettext_noop("Precise location"),
    "user.location.imprecise": gettext_noop("Approximate location"),
    "user.behavior.browsing_history": gettext_noop("Pages visited"),
    "user.behavior.purchase_history": gettext_noop("Purchases"),
    "user.financial": gettext_noop("Invoices"),
    "user.financial.bank_account": gettext_noop("Bank account"),
    "user.financial.credit_card": gettext_noop("Payment card"),
    "user.payment": gettext_noop("Payments"),
    "user.government_id": gettext_noop("Official identity number"),
}

# The portal's own keys before it moved to fideslang's, and where each went (the data migrations and the
# systems file loader use it to point at the new key).
LEGACY_CATEGORIES: dict[str, str] = {
    "user.account.id": "user.unique_id",
    "user.account.credentials": "user.authorization.credentials",
    "user.contact.name": "user.name",
    "user.contact.phone": "user.contact.phone_number",
    "user.job.title": "user.job_title",
    "user.job.company": "user.workplace",
    "user.preferences.time_zone": "user.account.settings",
    "user.preferences.subscriptions": "user.privacy_preferences",
    "user.communication.content": "user.content.private",
    "user.content.comment": "user.content.public",
    "user.content.file": "user.content.private",
    "user.device.user_agent": "user.device",
    "user.device.model": "user.device",
    "user.device.serial_number": "user.device.device_id",
    "user.device.software_version": "user.device",
    "user.device.telemetry": "user.telemetry",
    "user.behaviour.browsing": "user.behavior.browsing_history",
    "user.financial.billing_address": "user.contact.address",
    "user.financial.order": "user.behavior.purchase_history",
    "user.financial.invoice": "user.financial",
    "user.financial.tax_id": "user.financial",
    "user.consent.record": "user.privacy_preferences",
    "user.request.record": "user.privacy_preferences",
}


def category_label(category: str) -> str:
    """Human-readable name of a category in the active language (falls back to the dotted code)."""
    return gettext(DATA_CATEGORIES[category]) if category in DATA_CATEGORIES else category


def current_category(category: str) -> str:
    """``category`` in today's keys: a legacy key becomes its fideslang key, any other key stays as it is."""
    return LEGACY_CATEGORIES.get(category, category)
