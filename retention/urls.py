from django.urls import path

from retention import views

app_name = "retention"
urlpatterns = [
    path("account/delete/", views.delete_account, name="delete_account"),
    path("account/delete/cancel/", views.cancel_deletion, name="cancel_deletion"),
]
