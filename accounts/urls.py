from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.hub, name="hub"),
    path("name/", views.edit_name, name="edit_name"),
]
