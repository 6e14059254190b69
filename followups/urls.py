from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("followups/", views.queue, name="followup-queue"),
    path("followups/<int:pk>/", views.detail, name="followup-detail"),
    path("followups/<int:pk>/assign/", views.assign, name="followup-assign"),
    path("followups/<int:pk>/note/", views.note, name="followup-note"),
    path("followups/<int:pk>/contacted/", views.contacted, name="followup-contacted"),
    path("followups/<int:pk>/status/", views.change_status, name="followup-status"),
    path("followups/settings/<slug:slug>/", views.settings_page, name="followup-settings"),
    # the one response page is the dashboard's (reports.response_views); old links still work
    path(
        "followups/responses/<int:pk>/",
        RedirectView.as_view(pattern_name="response-detail", permanent=True),
    ),
]
