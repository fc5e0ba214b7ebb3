from consent.selectors import get_portal_property_key


def portal_banner(request):
    """The public key of the banner the portal's own pages show ('' if none), for every page."""
    return {"portal_consent_key": get_portal_property_key() or ""}
