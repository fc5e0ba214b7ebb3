from django.urls import path

from fulfilment import views

# The paths are those of before the split: download links already mailed keep working.
app_name = "fulfilment"
urlpatterns = [
    path("privacy/data/exports/<uuid:export_id>/download/", views.export_download, name="export_download"),
    path("privacy/data/exports/<uuid:export_id>/progress/", views.export_progress, name="export_progress"),
    path("privacy/data/staff/requests/<int:pk>/erasure/", views.erasure_review, name="erasure_review"),
    path("privacy/data/staff/requests/<int:pk>/rectify/", views.rectify, name="rectify"),
    path("privacy/data/staff/requests/<int:pk>/export/", views.start_export_view, name="start_export"),
    path("privacy/data/staff/tasks/<int:pk>/", views.staff_system_task, name="staff_system_task"),
    path("privacy/data/staff/requests/<int:pk>/tasks/new/", views.add_system_task, name="add_system_task"),
    path("privacy/data/systems/tasks/<str:token>/", views.system_task, name="system_task"),
    path("privacy/data/systems/callback/<uuid:key>/", views.system_callback, name="system_callback"),
    path("privacy/data/recipients/confirm/<str:token>/", views.confirm_notice, name="confirm_notice"),
    path("account/delete/", views.delete_account, name="delete_account"),
    path("account/delete/cancel/", views.cancel_deletion, name="cancel_deletion"),
]
