from django.urls import path

from policies import views
from policies.models import DocumentKind

app_name = "policies"
urlpatterns = [
    path("", views.document, {"kind": DocumentKind.PRIVACY}, name="privacy"),
    path("cookie-policy/", views.document, {"kind": DocumentKind.COOKIES}, name="cookie_policy"),
    path("terms/", views.document, {"kind": DocumentKind.TERMS}, name="terms"),
    path("history/", views.history, name="history"),
    path("history/<slug:kind>/v<int:number>/", views.version_detail, name="version"),
    path("accept/", views.accept, name="accept"),
]
