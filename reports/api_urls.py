from django.urls import path

from .api import views

urlpatterns = [
    path("reports/csat/", views.CsatReportView.as_view(), name="api-reports-csat"),
    path("reports/overview/", views.OverviewView.as_view(), name="api-reports-overview"),
]
