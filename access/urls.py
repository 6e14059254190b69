from django.urls import path

from . import keys_page

urlpatterns = [
    path("settings/api-keys/", keys_page.api_keys, name="api-keys"),
    path("settings/api-keys/<int:key_id>/revoke/", keys_page.api_key_revoke, name="api-key-revoke"),
]
