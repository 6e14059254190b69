from django.urls import path

from . import api

urlpatterns = [
    path("customers/erase/", api.CustomerEraseView.as_view(), name="api-customers-erase"),
    path("customers/export/", api.CustomerExportView.as_view(), name="api-customers-export"),
]
