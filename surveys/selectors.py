"""Everything that reads surveys and invitations for pages and the API."""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, Prefetch, Q, QuerySet, When
from django.db.models.functions import Lower
from django.utils import timezone

from csat_platform.prepared import prepared_cursor

from . import scales, tokens
from .models import Answer, Contact, Invitation, Question, Response, Survey, TouchpointSkip


def surveys_with_questions() -> QuerySet[Survey]:
    return Survey.objects.prefetch_related(
        Prefetch("questions", queryset=Question.objects.order_by("position", "id"))
    )


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link token belongs to, with its survey; None if unknown."""
    if not tokens.looks_like_token(token):
        return None
    query = _answer_page_query(connection.vendor)
    with prepared_cursor() as cursor:
        cursor.execute(query.sql, [tokens.hash_token(token)])
        row = cursor.fetchone()
    return query.invitation(row) if row else None


@dataclass(frozen=True)
class _AnswerPageQuery:
    """`Invitation.objects.select_related("survey").only(*ANSWER_PAGE_FIELDS)` by token hash,
    with its SQL and its columns' converters made once: this query runs on every answer-page
    request, and building it through the ORM cost more than the rest of the page's reads."""

    sql: str
    invitation_fields: tuple[str, ...]
    survey_fields: tuple[str, ...]
    converters: tuple[tuple[int, tuple], ...]  # (column, ((converter, expression), ...))

    def invitation(self, row: tuple) -> Invitation:
        values = list(row)
        for index, column_converters in self.converters:
            for convert, expression in column_converters:
                values[index] = convert(values[index], expression, connection)
        split = len(self.invitation_fields)
        invitation = Invitation.from_db(connection.alias, self.invitation_fields, values[:split])
        survey = Survey.from_db(connection.alias, self.survey_fields, values[split:])
        Invitation.survey.field.set_cached_value(invitation, survey)
        return invitation


@functools.cache
def _answer_page_query(vendor: str) -> _AnswerPageQuery:
    def fields(model, names: set[str]) -> list:
        # In the model's column order, as Model.from_db() takes a subset of its columns.
        return [f for f in model._meta.concrete_fields if f.name in names or f.attname in names]

    invitation = fields(Invitation, {n for n in ANSWER_PAGE_FIELDS if "__" not in n})
    survey = fields(Survey, {n[8:] for n in ANSWER_PAGE_FIELDS if n.startswith("survey__")})
    columns = [f.get_col("i") for f in invitation] + [f.get_col("s") for f in survey]
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {', '.join(f'{c.alias}.{quote(c.target.column)}' for c in columns)} "
        f"FROM {quote(Invitation._meta.db_table)} i "
        f"INNER JOIN {quote(Survey._meta.db_table)} s ON s.{quote(Survey._meta.pk.column)} = "
        f"i.{quote(Invitation.survey.field.column)} "
        f"WHERE i.{quote(Invitation._meta.get_field('token_hash').column)} = %s"
    )
    converters = []
    for index, column in enumerate(columns):
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, tuple((convert, column) for convert in found)))
    return _AnswerPageQuery(
        sql,
        tuple(f.attname for f in invitation),
        tuple(f.attname for f in survey),
        tuple(converters),
    )


ANSWER_PAGE_FIELDS = (
    "id",
    "survey_id",
    "contact_id",
    "locale",
    "attributes",
    "is_test",
    "status",
    "expires_at",
    "clicked_at",
    "answered_at",
    "sent_at",
    "salt",
    "token_hash",
    "survey__id",
    "survey__name",
    "survey__slug",
    "survey__status",
    "survey__touchpoint",
    "survey__languages",
    "survey__title",
    "survey__intro",
    "survey__thank_you",
    "survey__updated_at",
    "survey__published_at",
    "survey__expires_after_days",
)


# Questions per (survey id, survey.updated_at): every change to a survey's questions goes through
# the survey (services.update_survey, change_status, the admin) and moves updated_at, so a stale
# entry is never read. Saves a query and its ORM work on every answer-page request.
_QUESTIONS: dict[tuple[int, object], list[Question]] = {}


def survey_questions(survey: Survey) -> list[Question]:
    """The survey's questions in order, from a small per-process cache."""
    key = (survey.pk, survey.updated_at)
    questions = _QUESTIONS.get(key)
    if questions is None:
        questions = list(Question.objects.filter(survey_id=survey.pk).order_by("position", "id"))
        if len(_QUESTIONS) > 500:
            _QUESTIONS.clear()
        _QUESTIONS[key] = questions
    for question in questions:
        # The cached rows are shared; give each the caller's survey so nothing stale is reached.
        question.survey = survey
    return questions


def survey_overview() -> QuerySet[Survey]:
    """Surveys for the admin's list, with their question and response counts (test answers
    counted apart: they are never in the figures)."""
    return Survey.objects.annotate(
        question_count=Count("questions", distinct=True),
        response_count=Count("responses", filter=Q(responses__is_test=False), distinct=True),
        test_response_count=Count("responses", filter=Q(responses__is_test=True), distinct=True),
    ).order_by(Case(When(status="archived", then=1), default=0), "-updated_at")


# --- delivery: invitation states, the funnel, skipped touchpoints --------------------------------

Status = Invitation.Status

# Invitation states as the delivery page shows them: each invitation is in exactly one. "Clicked"
# and "answered" are sent invitations the customer opened or answered.
STATES: dict[str, tuple[tuple[str, ...], Q]] = {
    "scheduled": ((Status.SCHEDULED,), Q(answered_at__isnull=True)),
    "sending": ((Status.SENDING,), Q(answered_at__isnull=True)),
    "sent": ((Status.SENT,), Q(clicked_at__isnull=True, answered_at__isnull=True)),
    "clicked": ((Status.SENT,), Q(clicked_at__isnull=False, answered_at__isnull=True)),
    "answered": (tuple(Status.values), Q(answered_at__isnull=False)),
    "failed": ((Status.FAILED,), Q(answered_at__isnull=True)),
    "bounced": ((Status.BOUNCED,), Q(answered_at__isnull=True)),
    "expired": ((Status.EXPIRED,), Q(answered_at__isnull=True)),
    "suppressed": ((Status.SUPPRESSED,), Q(answered_at__isnull=True)),
}

# The delivery funnel counts invitations that were sent, like the dashboard's funnel: delivered =
# sent and no bounce reported (providers that report deliveries also set delivered_at: "confirmed").
SENT = Q(sent_at__isnull=False)
DELIVERED = Q(bounced_at__isnull=True)
FUNNEL_STEPS = ("sent", "delivered", "clicked", "answered", "commented")


@dataclass(frozen=True)
class DeliverySummary:
    total: int
    states: dict[str, int]
    funnel: dict[str, int]
    skips: dict[str, int]


def delivery_summary(survey: Survey) -> DeliverySummary:
    """Invitation states, the delivery funnel and skipped touchpoints per reason of one survey
    (test invitations excluded). Three grouped queries along the survey's indexes."""
    rows = Invitation.objects.filter(survey=survey, is_test=False)
    per_status = rows.values("status").annotate(
        n=Count("id"),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False, answered_at__isnull=True)),
        f_sent=Count("id", filter=SENT),
        f_delivered=Count("id", filter=SENT & DELIVERED),
        f_confirmed=Count("id", filter=SENT & DELIVERED & Q(delivered_at__isnull=False)),
        f_bounced=Count("id", filter=SENT & Q(bounced_at__isnull=False)),
        f_clicked=Count("id", filter=SENT & Q(clicked_at__isnull=False)),
        f_answered=Count("id", filter=SENT & Q(answered_at__isnull=False)),
    )
    states = dict.fromkeys(STATES, 0)
    funnel = dict.fromkeys(("sent", "delivered", "confirmed", "bounced", "clicked", "answered"), 0)
    total = 0
    for row in per_status.order_by():
        total += row["n"]
        states["answered"] += row["answered"]
        if row["status"] == Status.SENT:
            states["clicked"] += row["clicked"]
            states["sent"] += row["n"] - row["answered"] - row["clicked"]
        elif row["status"] in states:
            states[row["status"]] += row["n"] - row["answered"]
        for key in funnel:
            funnel[key] += row[f"f_{key}"]
    funnel["commented"] = commented_count(survey)
    skips = dict.fromkeys(TouchpointSkip.Reason.values, 0)
    skips.update(
        TouchpointSkip.objects.filter(survey=survey)
        .values_list("reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    return DeliverySummary(total=total, states=states, funnel=funnel, skips=skips)


# Above this many invitations the delivery page reads its counts from a cache of at most
# SUMMARY_CACHE_SECONDS: counting a million rows takes most of a second.
SUMMARY_LIVE_LIMIT = 50_000
SUMMARY_CACHE_SECONDS = 30


def recent_delivery_summary(survey: Survey) -> tuple[DeliverySummary, datetime | None]:
    """delivery_summary, live for surveys below SUMMARY_LIVE_LIMIT invitations, else at most
    SUMMARY_CACHE_SECONDS old; with the time it was counted (None when live)."""
    key = f"delivery-summary:{survey.pk}:{survey.created_at.timestamp()}"
    cached = cache.get(key)
    if cached is not None and cached[0].total >= SUMMARY_LIVE_LIMIT:
        return cached
    summary = delivery_summary(survey)
    if summary.total < SUMMARY_LIVE_LIMIT:
        return summary, None
    counted = (summary, timezone.now())
    cache.set(key, counted, SUMMARY_CACHE_SECONDS)
    return counted


def commented_count(survey: Survey) -> int:
    """Sent invitations whose response has a non-empty comment."""
    questions = [
        pk for pk, kind in survey.questions.values_list("id", "kind") if kind == scales.COMMENT
    ]
    if not questions:
        return 0
    return (
        Answer.objects.filter(
            question_id__in=questions,
            response__invitation__is_test=False,
            response__invitation__sent_at__isnull=False,
        )
        .exclude(text="")
        .values("response_id")
        .distinct()
        .count()
    )


def invitation_counts(survey: Survey) -> dict:
    """The delivery funnel (sent, delivered, confirmed, bounced, clicked, answered, commented),
    `total` and the invitation `states` of one survey, test invitations excluded (for the
    designer; big surveys from the delivery page's 30-second cache)."""
    summary, _counted_at = recent_delivery_summary(survey)
    return {"total": summary.total, "states": summary.states, **summary.funnel}


# --- delivery: the invitation and skip lists, newest first, a page at a time ------------------------


@dataclass(frozen=True)
class Page:
    rows: list
    newer: int | None  # `after` for the page before this one, None on the newest page
    older: int | None  # `before` for the next page, None on the last


def _page_ids(parts: list[QuerySet], *, before: int | None, after: int | None, size: int):
    """The ids of one page (newest first) over the union of `parts`, each read along an index in
    id order: a few short index scans merged here, however many rows there are."""
    ids: list[int] = []
    for part in parts:
        if after is not None:
            ids += part.filter(id__gt=after).order_by("id").values_list("id", flat=True)[: size + 1]
        else:
            if before is not None:
                part = part.filter(id__lt=before)
            ids += part.order_by("-id").values_list("id", flat=True)[: size + 1]
    if after is not None:
        ids = sorted(set(ids))[: size + 1]
        more = len(ids) > size
        ids = sorted(ids[:size], reverse=True)
        return ids, (ids[0] if more and ids else None), (ids[-1] if ids else None)
    ids = sorted(set(ids), reverse=True)
    more = len(ids) > size
    ids = ids[:size]
    return ids, (ids[0] if before is not None and ids else None), (ids[-1] if more else None)


def _contacts_matching(search: str) -> QuerySet:
    """Contacts whose email is `search` (a whole address: along contact_email_lower) or starts
    with it (a few letters: a scan of the contacts), case-insensitive."""
    term = search.strip().lower()
    contacts = Contact.objects.annotate(email_key=Lower("email"))
    if "@" in term and not term.endswith("@"):
        return contacts.filter(email_key=term)
    return contacts.filter(email_key__startswith=term)


def invitation_page(
    survey: Survey,
    *,
    state: str = "",
    search: str = "",
    test: bool = False,
    before: int | None = None,
    after: int | None = None,
    size: int = 50,
) -> Page:
    """One page of the survey's invitations, newest first: in one state (see STATES), of
    customers whose email starts with `search`, or the test invitations."""
    base = Invitation.objects.filter(survey=survey, is_test=test)
    if search:
        base = base.filter(contact__in=_contacts_matching(search).values("id")[:1000])
    if state == "answered":
        parts = [base.filter(answered_at__isnull=False)]  # along invitation_answered
    elif state in STATES:
        statuses, extra = STATES[state]
        parts = [base.filter(extra, status=s) for s in statuses]
    else:
        parts = [base.filter(status=s) for s in Status.values]
    if search or test:
        parts = [base.filter(STATES[state][1], status__in=STATES[state][0]) if state else base]
    ids, newer, older = _page_ids(parts, before=before, after=after, size=size)
    by_id = Invitation.objects.select_related("contact", "touchpoint").in_bulk(ids)
    return Page([by_id[pk] for pk in ids if pk in by_id], newer, older)


def skip_page(
    survey: Survey,
    *,
    reason: str = "",
    before: int | None = None,
    after: int | None = None,
    size: int = 25,
) -> Page:
    """One page of the touchpoints the survey skipped, newest first, optionally of one reason."""
    base = TouchpointSkip.objects.filter(survey=survey)
    reasons = [reason] if reason in TouchpointSkip.Reason.values else TouchpointSkip.Reason.values
    parts = [base.filter(reason=r) for r in reasons]
    ids, newer, older = _page_ids(parts, before=before, after=after, size=size)
    by_id = TouchpointSkip.objects.select_related("touchpoint__contact").in_bulk(ids)
    return Page([by_id[pk] for pk in ids if pk in by_id], newer, older)


def response_ids(invitation_ids: list[int]) -> dict[int, int]:
    """{invitation id: its response's id} for the invitations answered among them."""
    return dict(
        Response.objects.filter(invitation_id__in=invitation_ids).values_list("invitation_id", "id")
    )
