from django.urls import path

from registry import views

app_name = "registry"
urlpatterns = [
    path("", views.public_data, name="public"),
    path("exports/<uuid:export_id>/download/", views.export_download, name="export_download"),
    path("exports/<uuid:export_id>/progress/", views.export_progress, name="export_progress"),
    path("staff/record-of-processing.csv", views.inventory_csv, name="inventory_csv"),
    path("staff/requests/<int:pk>/erasure/", views.erasure_review, name="erasure_review"),
    path("staff/requests/<int:pk>/rectify/", views.rectify, name="rectify"),
    path("staff/requests/<int:pk>/export/", views.start_export_view, name="start_export"),
]
