"""Sending from the browser (survey admins): invite one customer now, or upload a CSV file of
touchpoints, see its preview, confirm it, and follow its import to the result. Every invitation
is made by surveys.invitations under the survey's rules, like the API's."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.views import survey_admin_required
from csat_platform.boundary import shows_rejected_fields

from . import invitations, uploads
from .customers import CustomerIn
from .delivery_page import SKIP_LABELS
from .errors import DomainError
from .models import Survey, TouchpointUpload
from .tasks import check_touchpoint_upload, run_touchpoint_upload
from .touchpoint_files import ATTRIBUTE_PREFIX, CUSTOMER_COLUMNS, EVENT_COLUMNS

RECENT_UPLOADS = 10


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    external_id = forms.CharField(
        label=gettext_lazy("Customer id"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Optional: your shop's or helpdesk's id for this customer."),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=())

    def __init__(self, *args, survey: Survey, **kwargs):
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        self.fields["language"].choices = [(c, names.get(c, c)) for c in survey.languages]


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


def _survey(slug: str) -> Survey:
    return get_object_or_404(Survey, slug=slug)


def _page(
    request: HttpRequest,
    survey: Survey,
    *,
    invite_form: InviteForm | None = None,
    upload_form: UploadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "survey": survey,
        "section": "design",
        "invite_form": invite_form or InviteForm(survey=survey),
        "upload_form": upload_form or UploadForm(),
        "uploads": survey.uploads.annotate(
            stalled=ExpressionWrapper(uploads.stalled(timezone.now()), BooleanField())
        ).order_by("-created_at")[:RECENT_UPLOADS],
        "columns": [*EVENT_COLUMNS, *CUSTOMER_COLUMNS, f"{ATTRIBUTE_PREFIX}<name>"],
        "max_mb": settings.CSAT_UPLOAD_MAX_MB,
        "takes_invitations": survey.status == Survey.Status.ACTIVE,
    }
    return render(request, "design/send.html", context, status=status)


def _rejected(request: HttpRequest, form: forms.Form) -> bool:
    """Fields the input boundary cleaned (NUL, lone surrogates): shown on the form, not stored."""
    for name, message in (getattr(request, "rejected_fields", None) or {}).items():
        form.add_error(name if name in form.fields else None, message)
    return bool(getattr(request, "rejected_fields", None))


@survey_admin_required
@require_GET
def send_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _survey(slug))


@shows_rejected_fields
@survey_admin_required
@require_POST
def invite_one(request: HttpRequest, slug: str) -> HttpResponse:
    survey = _survey(slug)
    form = InviteForm(request.POST, survey=survey)
    if _rejected(request, form) or not form.is_valid():
        return _page(request, survey, invite_form=form, status=400)
    data = form.cleaned_data
    try:
        invitation, _token = invitations.invite(
            survey=survey,
            customer=CustomerIn(
                email=data["email"],
                external_id=data["external_id"],
                name=data["name"],
                locale=data["language"],
            ),
            locale=data["language"],
        )
    except invitations.InvitationSkipped as skipped:
        label, hint = SKIP_LABELS[skipped.reason]
        form.add_error(
            None, _("No invitation: %(label)s. %(hint)s.") % {"label": label, "hint": hint}
        )
        return _page(request, survey, invite_form=form, status=skipped.status)
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return _page(request, survey, invite_form=form, status=error.status)
    messages.success(
        request,
        _("%(email)s is invited; the email goes out at %(due)s.")
        % {
            "email": invitation.contact.email,
            "due": date_format(localtime(invitation.due_at), "Y-m-d H:i"),
        },
    )
    return redirect("design-send", slug=survey.slug)


@survey_admin_required
@require_POST
def upload_file(request: HttpRequest, slug: str) -> HttpResponse:
    survey = _survey(slug)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, survey, upload_form=form, status=400)
    try:
        upload = uploads.store_upload(
            survey=survey, file=form.cleaned_data["file"], user=request.user
        )
    except DomainError as error:
        form.add_error("file" if error.field == "file" else None, str(error))
        return _page(request, survey, upload_form=form, status=error.status)
    transaction.on_commit(lambda: check_touchpoint_upload.delay(upload.pk))
    return redirect("design-upload", slug=survey.slug, upload_id=upload.pk)


def _upload(slug: str, upload_id: int) -> TouchpointUpload:
    return get_object_or_404(
        TouchpointUpload.objects.select_related("survey", "uploaded_by"),
        pk=upload_id,
        survey__slug=slug,
    )


@survey_admin_required
@require_http_methods(["GET", "POST"])
def upload_page(request: HttpRequest, slug: str, upload_id: int) -> HttpResponse:
    upload = _upload(slug, upload_id)
    if request.method == "POST":
        try:
            uploads.confirm_upload(upload=upload)
        except DomainError as refused:
            return _upload_page(request, upload, error=str(refused), status=refused.status)
        transaction.on_commit(lambda: run_touchpoint_upload.delay(upload.pk))
        return redirect("design-upload", slug=slug, upload_id=upload.pk)
    return _upload_page(request, upload)


@survey_admin_required
@require_POST
def resume_upload(request: HttpRequest, slug: str, upload_id: int) -> HttpResponse:
    """Resume a stalled import: a new run goes on after the last committed batch."""
    upload = _upload(slug, upload_id)
    try:
        uploads.resume_upload(upload=upload)
    except DomainError as refused:
        upload.refresh_from_db()
        return _upload_page(request, upload, error=str(refused), status=refused.status)
    transaction.on_commit(lambda: run_touchpoint_upload.delay(upload.pk))
    return redirect("design-upload", slug=slug, upload_id=upload.pk)


def _upload_page(
    request: HttpRequest, upload: TouchpointUpload, *, error: str = "", status: int = 200
) -> HttpResponse:
    skipped = [
        {"reason": key, "label": label, "hint": hint, "count": upload.skipped.get(key, 0)}
        for key, (label, hint) in SKIP_LABELS.items()
        if upload.skipped.get(key)
    ]
    context = {
        "survey": upload.survey,
        "upload": upload,
        "section": "design",
        "error": error,
        "skipped": skipped,
        "skipped_total": sum(upload.skipped.values()),
        "more_rejected": max(0, upload.rejected_count - len(upload.rejected)),
        "rows_total": upload.rows_new + upload.rows_existing,
        "stalled": uploads.is_stalled(upload),
        "stall_minutes": settings.CSAT_UPLOAD_STALL_MINUTES,
    }
    return render(request, "design/upload.html", context, status=status)


@survey_admin_required
@require_GET
def upload_status(request: HttpRequest, slug: str, upload_id: int) -> JsonResponse:
    """The upload's progress, polled by its page."""
    upload = _upload(slug, upload_id)
    return JsonResponse(
        {
            "status": upload.status,
            "in_progress": upload.in_progress,
            "lines_done": upload.lines_done,
            "lines_total": upload.lines_total,
            "stalled": uploads.is_stalled(upload),
        }
    )
