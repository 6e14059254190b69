from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<slug:slug>/", views.survey_dashboard, name="dashboard-survey"),
    path("dashboard/<slug:slug>/comments/", views.survey_comments, name="dashboard-comments"),
]
for fmt in ("csv", "xlsx"):
    urlpatterns += [
        path(
            f"dashboard/<slug:slug>/export/responses.{fmt}",
            views.export_responses,
            {"fmt": fmt},
            name=f"export-responses-{fmt}",
        ),
        path(
            f"dashboard/<slug:slug>/export/series.{fmt}",
            views.export_series,
            {"fmt": fmt},
            name=f"export-series-{fmt}",
        ),
    ]
