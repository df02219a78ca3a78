from django.urls import path

from . import views

urlpatterns = [path("updates/", views.post_update)]
