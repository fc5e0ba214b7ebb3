from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico on every page, the admin's included.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True), name="favicon"),
]
