"""The survey designer: pages for survey admins. Saving goes through the REST API."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from access.views import survey_admin_required

from . import invitations, scales, selectors, services
from .answer_page import question_views
from .api.serializers import SurveySerializer
from .customers import CustomerIn
from .drafts import DraftError, parse_draft
from .errors import DomainError
from .models import Survey
from .survey_templates import TEMPLATES
from .tasks import send_test_invitation


def scale_catalog() -> dict:
    """Default labels and satisfied sets for every kind × scale × language × direction,
    so the designer's script shows exactly what the server would store."""
    catalog: dict = {"kinds": {}, "faces": {}}
    for kind, codes in scales.SCALES_BY_KIND.items():
        catalog["kinds"][kind] = {"default": scales.DEFAULT_SCALE[kind], "scales": {}}
        for code in codes:
            scale = scales.SCALES[code]
            catalog["faces"][code] = list(scale.faces)
            entry = {
                "points": list(scale.points),
                "reversible": scale.reversible and kind != scales.NPS,
            }
            for direction in (False, True):
                if direction and not entry["reversible"]:
                    continue
                suffix = "reversed" if direction else "normal"
                entry[suffix] = {
                    "satisfied": scales.default_satisfied(kind, code, direction),
                    "labels": {
                        lang: scales.default_labels(kind, code, lang, direction)
                        for lang in scales.LANGUAGES
                    },
                }
            catalog["kinds"][kind]["scales"][code] = entry
    return catalog


@survey_admin_required
def survey_list(request: HttpRequest) -> HttpResponse:
    surveys = selectors.survey_overview()
    return render(
        request,
        "design/survey_list.html",
        {"surveys": surveys, "templates": TEMPLATES, "statuses": Survey.Status},
    )


def _ui_language() -> str:
    code = (translation.get_language() or "").split("-")[0]
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@survey_admin_required
@require_POST
def survey_create(request: HttpRequest) -> HttpResponse:
    template = request.POST.get("template", "")
    name = request.POST.get("name", "").strip()
    if not name:
        name = str(TEMPLATES[template]["title"]) if template in TEMPLATES else gettext("New survey")
    slug = slugify(request.POST.get("slug", "") or name)[:70] or "survey"
    base, n = slug, 2
    while Survey.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    try:
        if template in TEMPLATES:
            survey = services.create_survey_from_template(
                template=template, name=name, slug=slug, created_by=request.user
            )
        else:
            survey = services.create_survey(
                data={
                    "name": name,
                    "slug": slug,
                    "touchpoint": "purchase",
                    "languages": [_ui_language()],
                    "questions": [],
                },
                created_by=request.user,
            )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("design-list")
    return redirect("design-edit", slug=survey.slug)


@survey_admin_required
@require_http_methods(["GET", "POST"])
def survey_delete(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask, then delete a draft that was never published (409 on the page for any other)."""
    survey = get_object_or_404(Survey, slug=slug)
    status, error = 200, ""
    if request.method == "POST":
        try:
            services.delete_draft(survey=survey)
        except DomainError as refused:
            status, error = refused.status, str(refused)
        else:
            messages.success(
                request, gettext("The draft “%(name)s” is deleted.") % {"name": survey.name}
            )
            return redirect("design-list")
    elif survey.status != Survey.Status.DRAFT or survey.is_published:
        status = 409
        error = gettext("Only a draft that was never published can be deleted; archive this one.")
    tests = survey.invitations.filter(is_test=True).count()
    return render(
        request,
        "design/delete.html",
        {"survey": survey, "error": error, "tests": tests, "section": "design"},
        status=status,
    )


@survey_admin_required
def survey_edit(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(selectors.surveys_with_questions(), slug=slug)
    return render(
        request,
        "design/editor.html",
        {
            "survey": survey,
            "definition": SurveySerializer(survey).data,
            "catalog": scale_catalog(),
            "languages": [{"code": c, "name": n} for c, n in settings.LANGUAGES],
            "funnel": selectors.invitation_counts(survey),
        },
    )


@survey_admin_required
@require_POST
def survey_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """Render the answer page for an unsaved definition: exactly what the customer will see."""
    survey = get_object_or_404(Survey, slug=slug)
    try:
        draft, questions = parse_draft(survey, request.body)
    except DraftError as error:
        return JsonResponse(error.detail, status=400)
    language = request.GET.get("lang") or draft.default_language
    if language not in draft.languages:
        language = draft.default_language
    context = {
        "survey": draft,
        "language": language,
        "languages": [
            {"code": c, "name": dict(settings.LANGUAGES)[c], "current": c == language}
            for c in draft.languages
        ],
        "intro": draft.text("intro", language),
        "title": draft.public_title(language),
        "questions": question_views(draft, questions, language),
        "preview": True,
    }
    with translation.override(language):
        return render(request, "surveys/answer.html", context)


@survey_admin_required
@require_POST
def survey_send_test(request: HttpRequest, slug: str) -> HttpResponse:
    """Create a test invitation for the admin and mail it; answers are kept out of reports."""
    survey = get_object_or_404(Survey, slug=slug)
    email = (request.POST.get("email") or request.user.email or "").strip()
    if not email or "@" not in email:
        return JsonResponse({"email": [gettext("Give an email address for the test.")]}, status=400)
    try:
        invitation, token = invitations.invite(
            survey=survey,
            customer=CustomerIn(
                email=email, name=request.user.get_full_name() or request.user.get_username()
            ),
            locale=request.POST.get("lang", ""),
            is_test=True,
        )
    except DomainError as error:
        return JsonResponse({"detail": str(error)}, status=error.status)
    transaction.on_commit(lambda: send_test_invitation.delay(invitation.pk))
    return JsonResponse({"link": invitations.invitation_link(token), "email": email}, status=201)
