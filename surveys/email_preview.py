"""The designer's email preview: the survey's invitation email per language (the saved survey on
its own page, the editor's unsaved draft next to the page preview), built by the very function
that builds the mails the worker sends, for a sample customer."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from access.views import survey_admin_required

from .drafts import DraftError, parse_draft
from .emails.invitation import build_invitation_email
from .models import Contact, Invitation, Survey

SAMPLE_NAME = "Ana Example"
SAMPLE_REFERENCE = "A-1042"
SAMPLE_TOKEN = "preview"


def sample_email(survey: Survey, language: str, *, reminder: bool = False):
    """The message a customer speaking `language` would get (nothing is saved)."""
    now = timezone.now()
    invitation = Invitation(
        survey=survey,
        contact=Contact(email="ana@example.com", name=SAMPLE_NAME, locale=language),
        locale=language,
        attributes={"order_id": SAMPLE_REFERENCE},
        due_at=now,
        expires_at=now + timedelta(days=survey.expires_after_days),
    )
    return build_invitation_email(invitation, SAMPLE_TOKEN, reminder=reminder)


def _language(request: HttpRequest, survey: Survey) -> str:
    language = request.GET.get("lang", "")
    return language if language in survey.languages else survey.default_language


def _html_part(message) -> HttpResponse:
    response = HttpResponse(message.alternatives[0][0], content_type="text/html; charset=utf-8")
    # Shown as a mail client would: no scripts, framed only by this site. Its own policy (not
    # the pages' style-src 'self'): an email's styles are inline.
    response["Content-Security-Policy"] = "script-src 'none'; frame-ancestors 'self'"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@survey_admin_required
@require_POST
def email_draft(request: HttpRequest, slug: str) -> HttpResponse:
    """The email of the editor's unsaved survey: JSON (subject, From, text), or with ?part=html
    its HTML part for the preview's frame, which a form posts (field `definition`) into."""
    survey = get_object_or_404(Survey, slug=slug)
    body = request.POST.get("definition", "") if request.POST else request.body
    try:
        draft, _questions = parse_draft(survey, body)
    except DraftError as error:
        return JsonResponse(error.detail, status=400)
    message = sample_email(
        draft, _language(request, draft), reminder=request.GET.get("reminder") == "1"
    )
    if request.GET.get("part") == "html":
        return _html_part(message)
    return JsonResponse(
        {"subject": message.subject, "from": message.from_email, "text": message.body}
    )


@survey_admin_required
@require_GET
def email_preview(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    language = _language(request, survey)
    reminder = request.GET.get("reminder") == "1"
    message = sample_email(survey, language, reminder=reminder)
    if request.GET.get("part") == "html":
        return _html_part(message)
    names = dict(settings.LANGUAGES)
    context = {
        "survey": survey,
        "section": "design",
        "message": message,
        "language": language,
        "reminder": reminder,
        "languages": [(c, names.get(c, c)) for c in survey.languages],
        "sample_name": SAMPLE_NAME,
        "sample_reference": SAMPLE_REFERENCE,
    }
    return render(request, "design/email_preview.html", context)
