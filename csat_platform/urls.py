from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import mailbox, views

urlpatterns = [
    # First: a provider's webhook is the most frequent request, and Django tries the patterns
    # in order (at the end of the list it went through every other one first).
    path("", include("connectors.urls")),
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start script as a file of its own: no inline script, so
    # it runs under the Content-Security-Policy; Swagger UI itself comes from our static files.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("surveys.api.urls")),
    path("api/v1/", include("reports.api_urls")),
    path("mailbox/", mailbox.mailbox_list, name="mailbox"),
    path("mailbox/<str:name>/", mailbox.mailbox_message, name="mailbox-message"),
    path("", include("surveys.urls")),
    path("", include("reports.urls")),
    path("healthz", views.healthz, name="healthz"),
]
urlpatterns += [path("", include("followups.urls"))]

# Settings pages of survey admins: API keys.
urlpatterns += [path("", include("access.urls"))]

# The brand: its settings page, and the logo and colours the customer's pages and emails load.
urlpatterns += [path("", include("branding.urls"))]


# Languages: the switch in the navigation posts here (Django's set_language, CSRF-protected).
urlpatterns += [
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

# Privacy: erase and export one customer's data (admins and API keys).
urlpatterns += [path("api/v1/", include("privacy.urls"))]

# Email providers' bounce, complaint and delivery events: /anymail/<esp>/tracking/.
urlpatterns += [path("anymail/", include("surveys.webhooks"))]

# The connectors API (their webhooks and pages come first, above).
urlpatterns += [path("api/v1/", include("connectors.api_urls"))]
