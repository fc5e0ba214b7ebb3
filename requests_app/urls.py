from django.urls import path

from requests_app import views

app_name = "requests_app"
urlpatterns = [
    path("new/", views.new_request, name="new"),
    path("submitted/", views.submitted, name="submitted"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("mine/", views.my_requests, name="mine"),
    path("metrics/", views.metrics, name="metrics"),
    path("status/<str:token>/", views.status_by_token, name="status"),
    path("status/<str:token>/files/<int:file_id>/download/", views.file_by_token, name="status_file"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/files/<int:file_id>/download/", views.file_for_owner, name="file"),
]
