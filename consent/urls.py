from django.urls import path

from consent import views

app_name = "consent"
urlpatterns = [
    path("consent/<slug:key>/banner.js", views.banner_js, name="banner_js"),
    path("cookies/", views.cookies, name="cookies"),
    path("cookies/<slug:key>/", views.property_cookies, name="property_cookies"),
    path("third-parties/", views.third_parties, name="third_parties"),
    path("account/consents/", views.account_consents, name="account_consents"),
    path("account/email-preferences/", views.email_preferences, name="email_preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
