from django.contrib import admin
from django.urls import include, path

from privacyportal.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("privacy/data/", include("registry.urls")),
    path("privacy/", include("policies.urls")),
    path("requests/", include("requests_app.urls")),
    path("", include("consent.urls")),
    path("", include("retention.urls")),
    path("", include("core.urls")),
]
