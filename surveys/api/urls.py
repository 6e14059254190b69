from django.urls import path

from . import views

urlpatterns = [
    path("surveys/", views.SurveyListView.as_view(), name="api-surveys"),
    path("survey-templates/", views.SurveyTemplateListView.as_view(), name="api-survey-templates"),
    path("surveys/<slug:slug>/", views.SurveyDetailView.as_view(), name="api-survey"),
    path(
        "surveys/<slug:slug>/publish/", views.SurveyPublishView.as_view(), name="api-survey-publish"
    ),
    path(
        "surveys/<slug:slug>/invitations/",
        views.SurveyInvitationView.as_view(),
        name="api-survey-invitations",
    ),
]

# Touchpoint events in (the ingest side of automatic sending).
from .touchpoints import TouchpointView  # noqa: E402

urlpatterns += [path("touchpoints/", TouchpointView.as_view(), name="api-touchpoints")]

# The delivery page's figures.
from .delivery import SurveyDeliveryView  # noqa: E402

urlpatterns += [
    path("surveys/<slug:slug>/delivery/", SurveyDeliveryView.as_view(), name="api-survey-delivery")
]
