from django.urls import path

from . import api

urlpatterns = [
    path("connectors/", api.ConnectorListView.as_view(), name="api-connectors"),
    path("connectors/<int:pk>/", api.ConnectorDetailView.as_view(), name="api-connector"),
    path(
        "connectors/<int:pk>/rotate/",
        api.ConnectorRotateView.as_view(),
        name="api-connector-rotate",
    ),
    path(
        "connectors/<int:pk>/rotate-link-key/",
        api.ConnectorRotateLinkKeyView.as_view(),
        name="api-connector-rotate-link-key",
    ),
    path("connectors/<int:pk>/links/", api.ConnectorLinkView.as_view(), name="api-connector-links"),
    path(
        "connectors/<int:pk>/deliveries/",
        api.DeliveryListView.as_view(),
        name="api-connector-deliveries",
    ),
]
