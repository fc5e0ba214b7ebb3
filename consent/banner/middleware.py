"""Keeps the banner's responses shareable by any cache and small: no cookies, Vary only on what changes the
bytes, and none of the headers that only govern a page."""


class PublicAssetMiddleware:
    """Strip cookies, Content-Language and every Vary but Accept-Encoding from responses marked public_asset.

    It sits above the session, locale and CSRF middleware so that it sees their additions: the banner picks
    its language in the browser, and a cookie on a response a CDN shares would reach every visitor. It also
    drops Content-Security-Policy and X-Frame-Options, which a browser applies to documents and ignores on a
    script: they would add some 300 bytes to every page view of every website the banner runs on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "public_asset", False):
            response.cookies.clear()
            vary = [v.strip() for v in response.get("Vary", "").split(",")]
            del response["Vary"]
            del response["Content-Language"]
            del response["Content-Security-Policy"]
            del response["X-Frame-Options"]
            if "Accept-Encoding" in vary:
                response["Vary"] = "Accept-Encoding"
        return response
