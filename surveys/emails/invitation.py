"""The invitation email (and its reminder): a template triplet (subject, text, HTML) rendered in
the customer's language, with its headers."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import formats, translation
from django.utils.translation import gettext

from branding.selectors import current_brand, sender_address

from ..answer_page import question_views
from ..invitations import invitation_link
from ..languages import pick_language
from ..models import Invitation, Survey, Touchpoint
from .rendering import render_subject, render_triplet

TEMPLATES = "emails/invitation"

# Only these placeholders are filled; any other brace in an admin's text stays as written.
PLACEHOLDER = re.compile(r"\{(name|reference)\}")


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)


def invitation_reference(invitation: Invitation) -> str:
    """The order or ticket reference the customer knows: attributes, else the touchpoint's id."""
    attributes = invitation.attributes if isinstance(invitation.attributes, dict) else {}
    for key in ("order_id", "ticket_id", "reference"):
        if attributes.get(key) not in (None, ""):
            return str(attributes[key])
    if invitation.touchpoint_id:
        return invitation.touchpoint.external_id
    return ""


def unsubscribe_link(token: str) -> str:
    return f"{settings.SITE_URL}/u/{token}/"


@functools.lru_cache(maxsize=8)
def _domain_of(from_email: str) -> str:
    return parseaddr(from_email)[1].rpartition("@")[2] or "localhost"


def message_id_for(invitation: Invitation, kind: str) -> str:
    """A Message-ID fixed per invitation and kind, so a resent copy is recognisably the same mail."""
    domain = _domain_of(settings.DEFAULT_FROM_EMAIL)
    return f"<csat.{invitation.pk}.{kind}.{invitation.token_hash[:12]}@{domain}>"


@dataclass
class _ScaleView:
    question: str
    points: list[dict]


def _scale(survey: Survey, language: str, link: str, cache: dict | None) -> _ScaleView:
    key = (survey.pk, survey.updated_at, language)
    if cache is not None and key in cache:
        view = cache[key]
    else:
        primary = survey.primary_question()
        view = _ScaleView("", [])
        if primary is not None:
            shown = question_views(survey, [primary], language)[0]
            view = _ScaleView(
                shown.text,
                [{"value": p.value, "label": p.label, "face": p.face} for p in shown.points],
            )
        if cache is not None:
            cache[key] = view
    return _ScaleView(
        view.question, [{**p, "url": f"{link}?score={p['value']}"} for p in view.points]
    )


def _default_body(survey: Survey, reference: str) -> str:
    if survey.touchpoint == Touchpoint.PURCHASE:
        if reference:
            return gettext(
                "Thank you for your order %(reference)s. How satisfied are you? "
                "One click below is all it takes."
            ) % {"reference": reference}
        return gettext(
            "Thank you for your order. How satisfied are you? One click below is all it takes."
        )
    if survey.touchpoint == Touchpoint.SUPPORT_CONTACT:
        if reference:
            return gettext(
                "You recently contacted our support (ticket %(reference)s). How did we do? "
                "One click below is all it takes."
            ) % {"reference": reference}
        return gettext(
            "You recently contacted our support. How did we do? One click below is all it takes."
        )
    return gettext("We would love to hear how we did. One click below is all it takes.")


@dataclass(frozen=True)
class Personal:
    """What one message says to its customer (or the markers standing in for it)."""

    name: str
    reference: str
    token: str
    reminder: bool = False


def _context(invitation: Invitation, language: str, personal: Personal, cache: dict | None) -> dict:
    """The templates' context; call it inside translation.override(language)."""
    survey = invitation.survey
    link = invitation_link(personal.token)
    values = {"name": personal.name, "reference": personal.reference}
    scale = _scale(survey, language, link, cache)
    custom_body = fill_placeholders(survey.text("email_body", language), values).strip()
    custom_subject = fill_placeholders(survey.text("email_subject", language), values)
    brand = current_brand()
    return {
        "survey": survey,
        "title": survey.public_title(language),
        "name": personal.name,
        "reference": personal.reference,
        "link": link,
        "unsubscribe_link": unsubscribe_link(personal.token),
        "question": scale.question,
        "points": scale.points,
        "long_scale": len(scale.points) > 7,
        "cell_width": f"{100 // max(len(scale.points), 1)}%",
        "body": custom_body or _default_body(survey, personal.reference),
        "custom_subject": custom_subject,
        "reminder": personal.reminder,
        "language": language,
        "brand": brand,
        "logo_url": brand.absolute_logo_url,
        "accent": brand.accent_color,
        "expires": formats.date_format(invitation.expires_at, "DATE_FORMAT")
        if invitation.expires_at
        else "",
    }


def language_of(invitation: Invitation) -> str:
    return pick_language(invitation.survey, invitation.locale, invitation.contact.locale)


def render(invitation: Invitation, personal: Personal, cache: dict | None) -> tuple[str, str, str]:
    """Subject, text body and HTML body in the customer's language."""
    language = language_of(invitation)
    with translation.override(language):
        return render_triplet(TEMPLATES, _context(invitation, language, personal, cache))


def subject(invitation: Invitation, language: str, personal: Personal, cache: dict | None) -> str:
    with translation.override(language):
        return render_subject(TEMPLATES, _context(invitation, language, personal, cache))


def headers(invitation: Invitation, token: str, kind: str) -> dict[str, str]:
    return {
        "Message-ID": message_id_for(invitation, kind),
        # RFC 8058 one-click unsubscribe: mail clients POST to this URL without a person.
        "List-Unsubscribe": f"<{unsubscribe_link(token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
        # Postmark's SMTP relay turns this into the metadata its bounce webhooks echo back.
        "X-PM-Metadata-invitation": str(invitation.pk),
    }


def build_invitation_email(
    invitation: Invitation, token: str, *, reminder: bool = False, cache: dict | None = None
) -> EmailMultiAlternatives:
    """The invitation (or its reminder) as a multipart message with its headers, ready to send.

    `cache` (a dict kept for one batch) saves the survey's scale between messages.
    """
    contact = invitation.contact
    personal = Personal(contact.name, invitation_reference(invitation), token, reminder)
    subject_line, text, html = render(invitation, personal, cache)
    message = EmailMultiAlternatives(
        subject=subject_line,
        body=text,
        from_email=sender_address(),
        to=[contact.email],
        headers=headers(invitation, token, "reminder" if reminder else "invitation"),
    )
    message.attach_alternative(html, "text/html")
    # Read by django-anymail backends and echoed back by the provider's bounce webhooks.
    message.metadata = {"invitation": str(invitation.pk)}
    return message
