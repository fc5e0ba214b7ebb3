from django.core.cache import cache
from django.db import transaction

from core.models import Organisation
from core.selectors import ORGANISATION_CACHE_KEY


@transaction.atomic
def update_organisation(*, organisation: Organisation, **fields) -> Organisation:
    """Save the organisation's details and drop the cached copy."""
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.save()
    # Now, and again once committed: a page served in between would cache the old details once more.
    cache.delete(ORGANISATION_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(ORGANISATION_CACHE_KEY))
    return organisation
