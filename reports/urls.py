from django.urls import path

from . import response_views, views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<slug:slug>/", views.survey_dashboard, name="dashboard-survey"),
    path("dashboard/<slug:slug>/comments/", views.survey_comments, name="dashboard-comments"),
    path(
        "dashboard/<slug:slug>/responses/",
        response_views.survey_responses,
        name="dashboard-responses",
    ),
    path("responses/<int:pk>/", response_views.response_detail, name="response-detail"),
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
