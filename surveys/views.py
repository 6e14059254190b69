"""The customer's answer page: public, token-authenticated, fast, and working without JavaScript."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from csat_platform.boundary import shows_rejected_fields

from . import customers, responses, selectors
from .answer_page import page_language, question_views
from .errors import AlreadyAnswered, DomainError, InvitationClosed
from .languages import offered_languages
from .models import Contact, Survey, primary_of


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    return _private(render(request, template, context, status=status))


def _language_links(request, survey: Survey, current: str) -> list[dict]:
    names = dict(settings.LANGUAGES)
    return [
        {"code": code, "name": names.get(code, code), "current": code == current}
        for code in offered_languages(survey)
    ]


def _load(token: str):
    invitation = selectors.invitation_for_token(token)
    if invitation is None:
        # The same 404 as any unknown address: a wrong token reveals nothing.
        raise Http404
    return invitation


# The unguessable link token is the credential, and a cross-site page cannot know it, so a
# CSRF cookie adds nothing here; it would also fail: with `Referrer-Policy: no-referrer` browsers
# send `Origin: null` on the form post. The answer page sets no cookie at all.
@shows_rejected_fields
@csrf_exempt
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _load(token)
    language = _language(request, invitation)
    with translation.override(language):
        return _answer(request, token, invitation, language)


def _language(request: HttpRequest, invitation) -> str:
    return page_language(
        invitation.survey,
        requested=request.GET.get("lang", ""),
        stored=invitation.locale,
        accept=request.headers.get("Accept-Language", ""),
    )


def _answer(request: HttpRequest, token: str, invitation, language: str) -> HttpResponse:
    survey = invitation.survey
    context = {
        "survey": survey,
        "language": language,
        "languages": _language_links(request, survey, language),
        "intro": survey.text("intro", language),
        "title": survey.public_title(language),
        "token": token,
    }
    if invitation.answered_at:
        return _render(
            request,
            "surveys/already_answered.html",
            context,
            status=200 if request.method == "GET" else 409,
        )
    try:
        responses.check_open(invitation)
    except InvitationClosed as closed:
        return _render(
            request, "surveys/closed.html", {**context, "message": str(closed)}, status=410
        )

    questions = selectors.survey_questions(survey)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    status = 200
    notice = ""
    rejected = getattr(request, "rejected_fields", None)
    if request.method == "POST" and rejected:
        # The input boundary took out characters no database stores: show what is left, and
        # store nothing until the customer sends it again.
        values = {q.key: request.POST.get(q.key, "") for q in questions}
        status = 400
        for key in rejected:
            message = _(
                "This text had a character that cannot be saved; it was taken out. "
                "Please check the text and send it again."
            )
            if key in values:
                errors[key] = message
            else:
                notice = message
    elif request.method == "POST":
        values = {q.key: request.POST.get(q.key, "") for q in questions}
        try:
            responses.record_response(
                invitation=invitation, answers=values, locale=language, questions=questions
            )
        except AlreadyAnswered:
            return _render(request, "surveys/already_answered.html", context, status=409)
        except InvitationClosed as closed:
            return _render(
                request, "surveys/closed.html", {**context, "message": str(closed)}, status=410
            )
        except DomainError as error:
            status = error.status
            if error.field:
                errors[error.field] = str(error)
            else:
                notice = str(error)
        else:
            return redirect(f"{reverse('survey-thanks', args=[token])}?lang={language}")
    else:
        responses.record_click(invitation=invitation)
        primary = primary_of(questions)
        score = request.GET.get("score")
        if primary is not None and score is not None:
            # Pre-select only: recording needs a person to press the button, because mail
            # scanners follow every link in a message.
            if (
                primary.scale_def
                and score.lstrip("-").isdigit()
                and int(score) in primary.scale_def.points
            ):
                values[primary.key] = str(int(score))
            else:
                notice = "invalid-score"
    context.update(
        questions=question_views(survey, questions, language, values=values, errors=errors),
        errors=errors,
        notice=notice,
        preselected=bool(values) and request.method == "GET",
    )
    return _render(request, "surveys/answer.html", context, status=status)


def _own_language(texts: dict | str | None, language: str) -> str:
    if isinstance(texts, str):
        return texts
    return (texts or {}).get(language, "")


@require_http_methods(["GET"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _load(token)
    if not invitation.answered_at:
        return redirect("survey-answer", token=token)
    language = _language(request, invitation)
    context = {
        "survey": invitation.survey,
        "title": invitation.survey.public_title(language),
        "language": language,
        "languages": _language_links(request, invitation.survey, language),
        # Only the page's own language: without it the product's translated sentence is shown,
        # so the page never mixes two languages.
        "thank_you": _own_language(invitation.survey.thank_you, language),
    }
    with translation.override(language):
        return _render(request, "surveys/thanks.html", context)


# The one-click unsubscribe of RFC 8058: mail clients POST without a cookie or a CSRF token, so the
# token alone authenticates. A GET (a person, or a scanner following links) only shows the button.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _load(token)
    language = _language(request, invitation)
    if request.method == "POST":
        customers.unsubscribe(contact=invitation.contact)
        done = True
    else:
        done = Contact.objects.filter(
            pk=invitation.contact_id, unsubscribed_at__isnull=False
        ).exists()
    context = {
        "survey": invitation.survey,
        "title": invitation.survey.public_title(language),
        "language": language,
        "languages": [],
        "done": done,
    }
    with translation.override(language):
        return _render(request, "surveys/unsubscribe.html", context)
