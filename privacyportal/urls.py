from django.contrib import admin
from django.urls import include, path

from accounts.forms import StaffLoginForm
from privacyportal.api import api

# Staff log in through allauth's authentication too, so that its failed-login limit covers /admin/login/.
admin.site.login_form = StaffLoginForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # POST /i18n/setlang/: the footer's language switcher (Django's set_language, a cookie, no account needed).
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("privacy/data/", include("registry.urls")),
    path("privacy/", include("policies.urls")),
    path("requests/", include("requests_app.urls")),
    path("", include("consent.urls")),
    path("", include("fulfilment.urls")),
    path("", include("core.urls")),
    path("", include("demo.urls")),
]
