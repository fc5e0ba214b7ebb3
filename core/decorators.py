"""View decorators shared by the apps."""

from functools import wraps


def secret_url(view):
    """For a page whose URL carries a secret token: kept out of every cache, and never sent on as a Referer.

    Applied to every such page (verification link, status link, export download, unsubscribe), so that
    the token is not left in a shared proxy's cache nor leaked to the sites the page links to.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped
