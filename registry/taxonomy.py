"""The dotted data-category taxonomy every registered field is filed under."""

DATA_CATEGORIES: dict[str, str] = {
    "user.account.id": "Account identifier",
    "user.account.username": "User name",
    "user.account.credentials": "Login credentials",
    "user.account.settings": "Account settings",
    "user.contact.email": "E-mail address",
    "user.contact.name": "Name",
    "user.contact.phone": "Telephone number",
    "user.contact.address": "Postal address",
    "user.job.title": "Job title",
    "user.job.company": "Company",
    "user.preferences.time_zone": "Time zone",
    "user.preferences.subscriptions": "Mailing-list subscriptions",
    "user.communication.content": "Messages and conversations",
    "user.content.comment": "Published comments",
    "user.content.file": "Uploaded files",
    "user.device.ip_address": "IP address",
    "user.device.user_agent": "Browser and device type",
    "user.device.model": "Device model",
    "user.device.serial_number": "Device serial number",
    "user.device.software_version": "Software version",
    "user.device.telemetry": "Device telemetry",
    "user.behaviour.browsing": "Pages visited",
    "user.financial.billing_address": "Billing address",
    "user.financial.order": "Purchases",
    "user.financial.invoice": "Invoices",
    "user.financial.tax_id": "VAT number",
    "user.consent.record": "Consent choices",
    "user.request.record": "Data-protection requests",
}


def category_label(category: str) -> str:
    """Human-readable name of a category (falls back to the dotted code)."""
    return DATA_CATEGORIES.get(category, category)
