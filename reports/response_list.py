"""Reads for the responses pages: one survey's responses in keyset pages, and one response with
everything around it (answers, customer, touchpoint, invitation timeline, follow-up, the
customer's other responses)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from privacy.services import ERASED_EMAIL_DOMAIN
from surveys.models import Contact, Response, Survey

from .query import ReportQuery
from .responses import responses_in

PAGE_SIZE = 50
MAX_CONTACTS = 1000  # a search by name or email start matches at most this many customers
# The attributes holding the order or ticket reference a customer knows (as the invitation
# email names it: surveys.emails.invitation.invitation_reference).
REFERENCE_ATTRIBUTES = ("order_id", "ticket_id", "reference", "order")


@dataclass
class ResponsePage:
    rows: list[Response] = field(default_factory=list)
    newer: int | None = None  # the cursor of the page before (after=<id>)
    older: int | None = None  # the cursor of the page after (before=<id>)


def matching(rows: QuerySet[Response], search: str) -> QuerySet[Response]:
    """Responses of a customer whose email is `search` (or starts with it), whose name contains
    it or whose external id is it; or whose touchpoint id, order or ticket reference is it."""
    term = search.strip()
    lower = term.lower()
    contacts = Contact.objects.annotate(email_key=Lower("email"))
    if "@" in lower and not lower.endswith("@"):
        contacts = contacts.filter(email_key=lower)
    else:
        contacts = contacts.filter(
            Q(email_key__startswith=lower) | Q(name__icontains=term) | Q(external_id=term)
        )
    ids = list(contacts.values_list("id", flat=True)[:MAX_CONTACTS])
    condition = Q(contact_id__in=ids) | Q(invitation__contact_id__in=ids)
    condition |= Q(invitation__touchpoint__external_id=term)
    for name in REFERENCE_ATTRIBUTES:
        condition |= Q(**{f"attributes__{name}": term})
    return rows.filter(condition)


def test_answers(survey: Survey, query: ReportQuery) -> int:
    """How many test answers the query's range holds: no figure counts them, the pages say so."""
    return responses_in(survey, query, tests=True).count()


def response_page(
    survey: Survey,
    query: ReportQuery,
    *,
    search: str = "",
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
    tests: bool = False,
) -> ResponsePage:
    """One page of the survey's responses under the dashboard's filters, newest first.

    Keyset pages: `before` (older than that response) or `after` (newer than it), by
    (submitted_at, id): as fast at the millionth response as at the first (no OFFSET)."""
    rows = responses_in(survey, query, tests=tests)
    if search:
        rows = matching(rows, search)
    cursor = before if before is not None else after
    if cursor is not None:
        at = Response.objects.filter(pk=cursor, survey=survey).values_list(
            "submitted_at", flat=True
        )
        at = at.first()
        if at is None:
            return ResponsePage()
        # A range on submitted_at (the index's column) and the tie broken by id as a filter: the
        # index is walked from the cursor on, never a sort of every older row.
        if before is not None:
            rows = rows.filter(submitted_at__lte=at).exclude(submitted_at=at, pk__gte=cursor)
        else:
            rows = rows.filter(submitted_at__gte=at).exclude(submitted_at=at, pk__lte=cursor)
    order = ("submitted_at", "pk") if after is not None else ("-submitted_at", "-pk")
    rows = rows.select_related("contact", "invitation__contact").prefetch_related(
        "answers__question"
    )
    found = list(rows.order_by(*order)[: size + 1])
    more = len(found) > size
    found = found[:size]
    if after is not None:
        found.reverse()
        return ResponsePage(found, found[0].pk if more and found else None, found[-1].pk)
    newer = found[0].pk if before is not None and found else None
    return ResponsePage(found, newer, found[-1].pk if more and found else None)


def customer_of(response: Response) -> Contact | None:
    """The customer who answered: the response's, else its invitation's."""
    if response.contact_id:
        return response.contact
    return response.invitation.contact if response.invitation else None


def is_erased(contact: Contact | None) -> bool:
    """Whether the customer's personal data was erased (privacy.services.erase_customer)."""
    return bool(contact) and contact.email.endswith("@" + ERASED_EMAIL_DOMAIN)


def response_detail(pk: int) -> Response | None:
    return (
        Response.objects.select_related(
            "survey", "contact", "invitation__contact", "invitation__touchpoint"
        )
        .prefetch_related("answers__question", "survey__questions")
        .filter(pk=pk)
        .first()
    )


def other_responses(response: Response, limit: int = 20) -> list[Response]:
    """The same customer's other responses (any survey), newest first."""
    contact = customer_of(response)
    if contact is None:
        return []
    rows = Response.objects.filter(Q(contact=contact) | Q(invitation__contact=contact))
    return list(
        rows.exclude(pk=response.pk)
        .select_related("survey")
        .order_by("-submitted_at", "-pk")[:limit]
    )
