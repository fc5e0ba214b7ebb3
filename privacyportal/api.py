"""The JSON API under /api/ (django-ninja); each app contributes a router."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="Privacy Portal API",
    version="1",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)

# Routers are added here as apps provide them, e.g.:
# from consent.api import router as consent_router
# api.add_router("/consent/", consent_router)

from consent.api import router as consent_router  # noqa: E402

api.add_router("/consent/", consent_router)
