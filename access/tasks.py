"""Mail to colleagues: the invitation with its set-password link."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .colleagues import role_of
from .roles import role_label


def set_password_link(user: User) -> str:
    """Django's password-reset link for `user`: valid for PASSWORD_RESET_TIMEOUT, once."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


def invitation_email(user: User, *, invited_by: str, language: str) -> EmailMultiAlternatives:
    context = {
        "user": user,
        "invited_by": invited_by,
        "link": set_password_link(user),
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    with translation.override(language):
        context["role"] = role_label(role_of(user))
        subject = render_to_string("access/emails/invite_subject.txt", context).strip()
        text = render_to_string("access/emails/invite.txt", context)
        html = render_to_string("access/emails/invite.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(html, "text/html")
    return message


@shared_task(acks_late=True, ignore_result=True)
def send_colleague_invitation(user_id: int, invited_by: str, language: str) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    invitation_email(user, invited_by=invited_by, language=language).send()
