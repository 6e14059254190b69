"""The responses pages: a survey's responses under the dashboard's filters (keyset pages, a
search by customer or reference), and one response with everything around it."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from access.views import reports_viewer_required
from followups.models import FollowUp

from . import response_list
from .query import ReportError, parse_query
from .redact import comment_for_display
from .responses import scored_question
from .views import MAX_SEARCH, _bad_request, _survey, controls_context, score_labels

LIST_PARAMETERS = ("q", "before", "after", "tests")
TIMELINE = (
    ("created_at", gettext_lazy("Scheduled")),
    ("sent_at", gettext_lazy("Sent")),
    ("delivered_at", gettext_lazy("Delivered")),
    ("bounced_at", gettext_lazy("Bounced")),
    ("clicked_at", gettext_lazy("Clicked")),
    ("reminder_sent_at", gettext_lazy("Reminded")),
    ("answered_at", gettext_lazy("Answered")),
)


def _cursor(params, name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ReportError(_("%(value)r is not a page cursor") % {"value": raw}, field=name)
    return int(raw)


@reports_viewer_required
def survey_responses(request, slug: str):
    """The survey's responses, newest first, under the dashboard's filters and a search."""
    survey = _survey(slug)
    try:
        filters = parse_query(request.GET, own=LIST_PARAMETERS)
        question = scored_question(survey, filters)
        search = (request.GET.get("q") or "").strip()
        if len(search) > MAX_SEARCH:
            raise ReportError(_("at most %(n)s characters") % {"n": MAX_SEARCH}, field="q")
        before, after = _cursor(request.GET, "before"), _cursor(request.GET, "after")
        tests = request.GET.get("tests", "") == "1"
        if request.GET.get("tests", "1") not in ("0", "1"):
            raise ReportError(_("either 0 or 1"), field="tests")
    except ReportError as error:
        return _bad_request(request, error, survey)
    page = response_list.response_page(
        survey, filters, search=search, before=before, after=after, tests=tests
    )
    labels = score_labels(question)
    rows = []
    for response in page.rows:
        answers = list(response.answers.all())
        scored = next((a for a in answers if question and a.question_id == question.pk), None)
        comment = next((a.text for a in answers if not a.question.is_scored and a.text), "")
        customer = response_list.customer_of(response)
        rows.append(
            {
                "response": response,
                "customer": customer,
                "erased": response_list.is_erased(customer),
                "score": scored.score if scored else None,
                "score_label": labels.get(scored.score, "") if scored else "",
                "satisfied": scored.satisfied if scored else None,
                "comment": comment_for_display(comment),
            }
        )
    base = filters.query(q=search, tests="1" if tests else "")
    return render(
        request,
        "reports/responses.html",
        {
            **controls_context(survey, filters),
            "survey": survey,
            "section": "dashboard",
            "rows": rows,
            "search": search,
            "question_text": question.text_in(get_language() or "en") if question else "",
            "hidden_params": [("q", search), ("tests", "1" if tests else "")],
            "tests": tests,
            "test_answers": 0 if tests else response_list.test_answers(survey, filters),
            "real_query": filters.query(q=search),
            "tests_query": filters.query(q=search, tests="1"),
            "show_interval": False,
            "newer": f"?{base}&after={page.newer}" if page.newer else "",
            "older": f"?{base}&before={page.older}" if page.older else "",
            "first": f"?{base}" if (before or after) else "",
        },
    )


@reports_viewer_required
def response_detail(request, pk: int):
    """One response: every answer, the customer, the touchpoint and its attributes, the
    invitation's timeline, the follow-up and the customer's other responses."""
    response = response_list.response_detail(pk)
    if response is None:
        raise Http404
    language = get_language() or "en"
    answers = sorted(response.answers.all(), key=lambda a: (a.question.position, a.question.id))
    rows = []
    for answer in answers:
        question = answer.question
        label = score_labels(question).get(answer.score, "") if answer.score is not None else ""
        rows.append(
            {
                "key": question.key,
                "question": question.text_in(language),
                "scored": question.is_scored,
                "score": answer.score,
                "label": label,
                "satisfied": answer.satisfied,
                "text": comment_for_display(answer.text),
            }
        )
    invitation = response.invitation
    timeline = []
    if invitation is not None:
        timeline = sorted(
            (
                {"key": name, "label": label, "at": getattr(invitation, name)}
                for name, label in TIMELINE
                if getattr(invitation, name)
            ),
            key=lambda step: step["at"],
        )
    customer = response_list.customer_of(response)
    return render(
        request,
        "reports/response.html",
        {
            "response": response,
            "survey": response.survey,
            "section": "dashboard",
            "rows": rows,
            "customer": customer,
            "erased": response_list.is_erased(customer),
            "invitation": invitation,
            "touchpoint": invitation.touchpoint if invitation else None,
            "attributes": sorted((response.attributes or {}).items()),
            "timeline": timeline,
            "follow_up": FollowUp.objects.filter(response=response).first(),
            "others": response_list.other_responses(response),
        },
    )
