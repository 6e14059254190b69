from django.urls import path

from . import delivery_page, designer, email_preview, send_page, views

urlpatterns = [
    path("s/<str:token>/", views.answer, name="survey-answer"),
    path("s/<str:token>/thanks/", views.thanks, name="survey-thanks"),
    path("u/<str:token>/", views.unsubscribe, name="survey-unsubscribe"),
    path("design/", designer.survey_list, name="design-list"),
    path("design/new/", designer.survey_create, name="design-create"),
    path("design/<slug:slug>/", designer.survey_edit, name="design-edit"),
    path("design/<slug:slug>/email/", email_preview.email_preview, name="design-email"),
    path("design/<slug:slug>/email/draft/", email_preview.email_draft, name="design-email-draft"),
    path("design/<slug:slug>/delete/", designer.survey_delete, name="design-delete"),
    path("design/<slug:slug>/preview/", designer.survey_preview, name="design-preview"),
    path("design/<slug:slug>/test/", designer.survey_send_test, name="design-send-test"),
    path(
        "design/<slug:slug>/invitations/",
        delivery_page.survey_delivery,
        name="design-invitations",
    ),
    path("design/<slug:slug>/send/", send_page.send_page, name="design-send"),
    path("design/<slug:slug>/send/invite/", send_page.invite_one, name="design-invite"),
    path("design/<slug:slug>/send/upload/", send_page.upload_file, name="design-upload-file"),
    path(
        "design/<slug:slug>/uploads/<int:upload_id>/",
        send_page.upload_page,
        name="design-upload",
    ),
    path(
        "design/<slug:slug>/uploads/<int:upload_id>/status/",
        send_page.upload_status,
        name="design-upload-status",
    ),
    path(
        "design/<slug:slug>/uploads/<int:upload_id>/resume/",
        send_page.resume_upload,
        name="design-upload-resume",
    ),
]
