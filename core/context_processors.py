from django.conf import settings

from core.selectors import get_organisation


def portal(request):
    """Organisation details and the portal's own banner key, for every page."""
    return {
        "organisation": get_organisation(),
        "site_url": settings.SITE_URL,
        "portal_consent_key": _portal_consent_key(),
    }


def _portal_consent_key() -> str:
    if settings.PORTAL_CONSENT_PROPERTY_KEY:
        return settings.PORTAL_CONSENT_PROPERTY_KEY
    try:
        from consent.selectors import get_portal_property_key
    except ImportError:
        return ""
    return get_portal_property_key() or ""
