"""Mails to the people who close the loop, as template triplets (subject, text, HTML)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import translation

from surveys.emails.rendering import render_triplet

from .payloads import follow_up_url


def _message(kind: str, context: dict, to: str) -> EmailMultiAlternatives:
    with translation.override(settings.LANGUAGE_CODE):
        subject, text, html = render_triplet(f"followups/emails/{kind}", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(html, "text/html")
    return message


def follow_up_email(follow_up) -> EmailMultiAlternatives | None:
    """The owner's notice of a new follow-up; None when nobody with an address owns it."""
    owner = follow_up.assignee
    if owner is None or not owner.email:
        return None
    context = {
        "follow_up": follow_up,
        "owner": owner,
        "contact": follow_up.contact,
        "primary": follow_up.primary_score,
        "scores": follow_up.scores_in(settings.LANGUAGE_CODE),
        "url": follow_up_url(follow_up),
    }
    return _message("opened", context, owner.email)


def alert_email(*, survey, owner, details: dict) -> EmailMultiAlternatives | None:
    if owner is None or not owner.email:
        return None
    context = {"survey": survey, "owner": owner, "details": details}
    return _message("alert", context, owner.email)
