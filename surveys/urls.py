from django.urls import path

from . import delivery_page, designer, views

urlpatterns = [
    path("s/<str:token>/", views.answer, name="survey-answer"),
    path("s/<str:token>/thanks/", views.thanks, name="survey-thanks"),
    path("u/<str:token>/", views.unsubscribe, name="survey-unsubscribe"),
    path("design/", designer.survey_list, name="design-list"),
    path("design/new/", designer.survey_create, name="design-create"),
    path("design/<slug:slug>/", designer.survey_edit, name="design-edit"),
    path("design/<slug:slug>/preview/", designer.survey_preview, name="design-preview"),
    path("design/<slug:slug>/test/", designer.survey_send_test, name="design-send-test"),
    path(
        "design/<slug:slug>/invitations/",
        delivery_page.survey_delivery,
        name="design-invitations",
    ),
]
