from django.urls import path, re_path

from . import views

urlpatterns = [
    path("settings/brand/", views.brand_page, name="brand"),
    path("settings/brand/logo/remove/", views.brand_logo_remove, name="brand-logo-remove"),
    re_path(r"^brand/logo-(?P<digest>[0-9a-f]{16})\.png$", views.brand_logo, name="brand-logo"),
    re_path(r"^brand/theme-(?P<color>[0-9a-f]{6})\.css$", views.brand_theme, name="brand-theme"),
]
