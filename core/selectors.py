from django.core.cache import cache

from core.models import Organisation

ORGANISATION_CACHE_KEY = "core:organisation:v1"


def get_organisation() -> Organisation:
    """The organisation's details, cached; created with defaults on first use."""
    org = cache.get(ORGANISATION_CACHE_KEY)
    if org is None:
        org = Organisation.objects.order_by("pk").first() or Organisation.objects.create()
        cache.set(ORGANISATION_CACHE_KEY, org, 300)
    return org
