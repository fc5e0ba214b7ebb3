from django.urls import path

from registry import views

app_name = "registry"
urlpatterns = [
    path("", views.public_data, name="public"),
    path("staff/record-of-processing.csv", views.inventory_csv, name="inventory_csv"),
]
