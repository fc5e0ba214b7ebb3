"""View decorators shared by the apps."""

from functools import wraps

REFERRER_POLICY = "strict-origin"


def secret_url(view):
    """For a page whose URL carries a secret token: kept out of every cache, and never sent on as a Referer.

    Applied to every such page (verification link, status link, export download, unsubscribe), so that
    the token is not left in a shared proxy's cache nor leaked to the sites the page links to.

    The referrer policy is ``strict-origin``: a Referer, if any, is the bare origin, never the path with
    the token. ``no-referrer`` would do no better for the token, but browsers then send ``Origin: null``
    with the page's own forms (Confirm, messages, withdraw), which the CSRF check rightly refuses.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = REFERRER_POLICY
        return response

    return wrapped
