"""A URL configuration with one broken page, for the test of the live server's 5xx guard."""

from django.urls import path


def broken(request):
    raise RuntimeError("this page is broken on purpose")


urlpatterns = [path("broken/", broken)]
