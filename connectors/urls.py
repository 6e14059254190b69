from django.urls import path

from . import hooks, views

urlpatterns = [
    path("hooks/<str:public_id>/", hooks.receive, name="connector-hook"),
    path("rate/<str:public_id>/", hooks.rate, name="connector-link"),
    path("connectors/", views.connector_list, name="connector-list"),
    path("connectors/<int:pk>/", views.connector_detail, name="connector-detail"),
    path("connectors/<int:pk>/rotate/", views.connector_rotate, name="connector-rotate"),
    path(
        "connectors/<int:pk>/link-key/",
        views.connector_rotate_link_key,
        name="connector-rotate-link-key",
    ),
    path("connectors/<int:pk>/delete/", views.connector_delete, name="connector-delete"),
]
