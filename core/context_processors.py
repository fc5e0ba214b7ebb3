from django.conf import settings

from core.selectors import get_organisation


def portal(request):
    """Organisation details for every page (the portal's own banner is consent's: consent.context_processors)."""
    return {
        "organisation": get_organisation(),
        "site_url": settings.SITE_URL,
    }
