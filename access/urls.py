from django.contrib.auth import views as auth_views
from django.urls import path

from . import colleagues_page, keys_page

urlpatterns = [
    path("settings/api-keys/", keys_page.api_keys, name="api-keys"),
    path("settings/api-keys/<int:key_id>/revoke/", keys_page.api_key_revoke, name="api-key-revoke"),
    path("settings/colleagues/", colleagues_page.colleagues_page, name="colleagues"),
    path(
        "settings/colleagues/<int:user_id>/role/",
        colleagues_page.colleague_role,
        name="colleague-role",
    ),
    path(
        "settings/colleagues/<int:user_id>/active/",
        colleagues_page.colleague_active,
        name="colleague-active",
    ),
    # The invited colleague's link: Django's password-reset confirmation, which logs them in
    # and sends them to their role's home.
    path(
        "accounts/set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/set_password.html",
            post_reset_login=True,
            post_reset_login_backend="django.contrib.auth.backends.ModelBackend",
            success_url="/",
        ),
        name="password_reset_confirm",
    ),
]
