"""The survey admin's delivery page: invitation states, the delivery funnel, skipped touchpoints
and the invitation list. Every figure comes from surveys.selectors (indexed, grouped queries)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from access.views import survey_admin_required

from . import selectors
from .models import Invitation, Survey, TouchpointSkip

STATE_LABELS = {
    "scheduled": (_("Scheduled"), _("Waiting for their send time"), "wait"),
    "sending": (_("Sending"), _("Being handed to the mail server"), "wait"),
    "sent": (_("Sent"), _("Sent, not opened yet"), "info"),
    "clicked": (_("Clicked"), _("Opened the survey, no answer yet"), "info"),
    "answered": (_("Answered"), _("The customer answered"), "ok"),
    "failed": (_("Failed"), _("Could not be sent"), "bad"),
    "bounced": (_("Bounced"), _("Refused by the customer's mail server"), "bad"),
    "expired": (_("Expired"), _("The link ran out without an answer"), "muted"),
    "suppressed": (
        _("Suppressed"),
        _("Not sent: unsubscribed, undeliverable or archived"),
        "muted",
    ),
}
SKIP_LABELS = {
    TouchpointSkip.Reason.FILTERED: (_("Filtered out"), _("Did not match the survey's filters")),
    TouchpointSkip.Reason.STALE: (_("Too old"), _("The link would have expired before sending")),
    TouchpointSkip.Reason.SAMPLED_OUT: (_("Sampled out"), _("Not in the survey's sample")),
    TouchpointSkip.Reason.UNSUBSCRIBED: (_("Unsubscribed"), _("The customer unsubscribed")),
    TouchpointSkip.Reason.UNDELIVERABLE: (
        _("Undeliverable"),
        _("No email address, or it bounced"),
    ),
    TouchpointSkip.Reason.FATIGUED: (_("Surveyed recently"), _("The fatigue rule held it back")),
}
FUNNEL_LABELS = {
    "sent": _("Sent"),
    "delivered": _("Delivered"),
    "clicked": _("Clicked"),
    "answered": _("Answered"),
    "commented": _("Commented"),
}
# Reasons worth showing in the list: why it did not go out (or is retrying), or what came back.
REASON_STATES = {"scheduled", "failed", "bounced", "suppressed", "expired", "sent", "clicked"}


def _n(value: int) -> str:
    return number_format(value, force_grouping=True)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "–"


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _link(params: QueryDict, **changes) -> str:
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def state_of(invitation: Invitation) -> str:
    if invitation.answered_at:
        return "answered"
    if invitation.status == Invitation.Status.SENT and invitation.clicked_at:
        return "clicked"
    return invitation.status


def _rows(invitations: list[Invitation]) -> list[dict]:
    rows = []
    answered = selectors.response_ids([i.pk for i in invitations if i.answered_at])
    for invitation in invitations:
        state = state_of(invitation)
        label, _hint, tone = STATE_LABELS.get(state, (state, "", "muted"))
        rows.append(
            {
                "invitation": invitation,
                "state": state,
                "label": label,
                "tone": tone,
                "reason": invitation.status_reason if state in REASON_STATES else "",
                "response_id": answered.get(invitation.pk),
            }
        )
    return rows


@survey_admin_required
@require_http_methods(["GET"])
def survey_delivery(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    params = request.GET
    state = params.get("state") or params.get("status") or ""
    state = state if state in selectors.STATES else ""
    search = params.get("q", "").strip()[:254]
    test = params.get("test") == "1"
    reason = params.get("skip", "")
    reason = reason if reason in TouchpointSkip.Reason.values else ""

    summary, counted_at = selectors.recent_delivery_summary(survey)
    page = selectors.invitation_page(
        survey,
        state=state,
        search=search,
        test=test,
        before=_cursor(params.get("before")),
        after=_cursor(params.get("after")),
    )
    skips = selectors.skip_page(
        survey,
        reason=reason,
        before=_cursor(params.get("skip_before")),
        after=_cursor(params.get("skip_after")),
    )
    base = params.copy()
    for key in ("before", "after", "status"):
        base.pop(key, None)

    states = [
        {
            "key": key,
            "label": label,
            "hint": hint,
            "tone": tone,
            "count": summary.states[key],
            "n": _n(summary.states[key]),
            "share": _percent(summary.states[key], summary.total),
            "url": _link(base, state=key, q=None, test=None),
            "current": key == state and not test,
        }
        for key, (label, hint, tone) in STATE_LABELS.items()
    ]
    funnel, previous = [], None
    for key, label in FUNNEL_LABELS.items():
        count = summary.funnel[key]
        funnel.append(
            {
                "key": key,
                "label": label,
                "count": count,
                "n": _n(count),
                "share": _percent(count, summary.funnel["sent"]),
                "step": _percent(count, previous) if previous else "",
                "width": round(100 * count / summary.funnel["sent"])
                if summary.funnel["sent"]
                else 0,
            }
        )
        previous = count
    skipped = sum(summary.skips.values())
    skip_reasons = [
        {
            "key": key,
            "label": label,
            "hint": hint,
            "count": summary.skips.get(key, 0),
            "n": _n(summary.skips.get(key, 0)),
            "share": _percent(summary.skips.get(key, 0), skipped),
            "width": round(100 * summary.skips.get(key, 0) / skipped) if skipped else 0,
            "url": _link(base, skip=key, skip_before=None, skip_after=None) + "#skipped",
            "current": key == reason,
        }
        for key, (label, hint) in SKIP_LABELS.items()
    ]
    listed = summary.states[state] if state else summary.total
    context = {
        "survey": survey,
        "section": "design",
        "summary": summary,
        "counted_at": counted_at,
        "total_n": _n(summary.total),
        "states": states,
        "funnel": funnel,
        "bounced": summary.funnel["bounced"],
        "confirmed": summary.funnel["confirmed"],
        "bounced_n": _n(summary.funnel["bounced"]),
        "confirmed_n": _n(summary.funnel["confirmed"]),
        "webhooks_on": bool((getattr(settings, "ANYMAIL", {}) or {}).get("WEBHOOK_SECRET")),
        "skipped": skipped,
        "skipped_n": _n(skipped),
        "skip_reasons": skip_reasons,
        "skip_reason": reason,
        "skip_reason_label": SKIP_LABELS[reason][0] if reason else "",
        "skips": skips,
        "skip_newer": _link(base, skip_after=skips.newer, skip_before=None) + "#skipped"
        if skips.newer
        else "",
        "skip_older": _link(base, skip_before=skips.older, skip_after=None) + "#skipped"
        if skips.older
        else "",
        "skip_all": _link(base, skip=None, skip_before=None, skip_after=None) + "#skipped",
        "state": state,
        "state_label": STATE_LABELS[state][0] if state else "",
        "search": search,
        "test": test,
        "rows": _rows(page.rows),
        "listed": None if (search or test) else _n(listed),
        "newer": _link(base, after=page.newer) + "#invitations" if page.newer else "",
        "older": _link(base, before=page.older) + "#invitations" if page.older else "",
        "all_url": _link(base, state=None, q=None, test=None) + "#invitations",
        "test_url": _link(base, state=None, q=None, test=1) + "#invitations",
    }
    return render(request, "design/delivery.html", context)
