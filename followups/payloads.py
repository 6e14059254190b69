"""What webhooks carry: the JSON of a follow-up or an alert, and a Slack-compatible text."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from .models import FollowUp, Webhook


def follow_up_url(follow_up: FollowUp) -> str:
    return settings.SITE_URL + reverse("followup-detail", args=[follow_up.pk])


def follow_up_data(follow_up: FollowUp) -> dict:
    contact = follow_up.contact
    primary = follow_up.primary_score or {}
    return {
        "id": follow_up.pk,
        "url": follow_up_url(follow_up),
        "status": follow_up.status,
        "survey": {"slug": follow_up.survey.slug, "name": follow_up.survey.name},
        "reason": follow_up.reason,
        "score": primary.get("score"),
        "scale": primary.get("scale"),
        "label": primary.get("label"),
        "scores": follow_up.scores,
        "comment": follow_up.comment_shown,
        "customer": {
            "email": contact.email if contact else "",
            "name": contact.name if contact else "",
            "external_id": (contact.external_id or "") if contact else "",
        },
        "touchpoint_type": follow_up.touchpoint_type,
        "attributes": follow_up.attributes,
        "assignee": follow_up.assignee.get_username() if follow_up.assignee else None,
        "opened_at": follow_up.opened_at.isoformat(),
        "due_at": follow_up.due_at.isoformat(),
        "resolved_at": follow_up.resolved_at.isoformat() if follow_up.resolved_at else None,
    }


def slack_text(event: str, data: dict) -> str:
    if event == Webhook.Event.CSAT_ALERT:
        return (
            f":warning: CSAT alert for *{data['survey']['name']}*: {data['message']} "
            f"<{data['url']}|Open the dashboard>"
        )
    verb = "resolved" if event == Webhook.Event.FOLLOWUP_RESOLVED else "opened"
    who = data["customer"]["name"] or data["customer"]["email"] or "a customer"
    comment = f"\n> {data['comment'][:300]}" if data.get("comment") else ""
    return (
        f"Follow-up {verb} for *{data['survey']['name']}*: {who}, {data['reason']}."
        f"{comment}\n<{data['url']}|Open the follow-up>"
    )


def body(*, event: str, data: dict, payload_format: str) -> str:
    """The exact request body: a signed JSON envelope, or Slack's {"text": ...}."""
    if payload_format == Webhook.Format.SLACK:
        envelope = {"text": slack_text(event, data)}
    else:
        envelope = {
            "id": str(uuid.uuid4()),
            "event": event,
            "created_at": timezone.now().isoformat(),
            "data": data,
        }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
