"""Survey emails as template triplets (subject, text, HTML), rendered in the customer's language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import strip_tags

from .answer_page import question_views
from .models import Invitation
from .services import invitation_link, pick_language


def build_invitation_email(
    invitation: Invitation, token: str, *, reminder: bool = False
) -> EmailMultiAlternatives:
    """The invitation (or reminder) as a multipart message, ready to send."""
    survey = invitation.survey
    language = pick_language(survey, invitation.locale, invitation.contact.locale)
    link = invitation_link(token)
    primary = survey.primary_question()
    points = []
    if primary is not None:
        view = next(v for v in question_views(survey, [primary], language) if v.key == primary.key)
        points = [
            {"value": p.value, "label": p.label, "face": p.face, "url": f"{link}?score={p.value}"}
            for p in view.points
        ]
    context = {
        "survey": survey,
        "invitation": invitation,
        "name": invitation.contact.name,
        "link": link,
        "question": view.text if primary is not None else "",
        "points": points,
        "long_scale": len(points) > 7,
        "cell_width": f"{100 // max(len(points), 1)}%",
        "intro": survey.text("intro", language),
        "custom_body": survey.text("email_body", language),
        "custom_subject": survey.text("email_subject", language),
        "reminder": reminder,
        "language": language,
    }
    with translation.override(language):
        subject = render_to_string("emails/invitation_subject.txt", context).strip()
        text = render_to_string("emails/invitation.txt", context)
        html = render_to_string("emails/invitation.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(strip_tags(subject).split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.contact.email],
    )
    message.attach_alternative(html, "text/html")
    return message
