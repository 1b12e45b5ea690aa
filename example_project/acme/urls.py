from django.urls import path

from acme import views

urlpatterns = [
    path("", views.index, name="index"),
]
