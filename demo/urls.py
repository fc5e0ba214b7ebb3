from django.urls import path

from demo import views

app_name = "demo"
urlpatterns: list = [
    path("demo/shop/", views.shop_page, name="shop_page"),
]
