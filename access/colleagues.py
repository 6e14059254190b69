"""Colleagues: the people who log in, with one of the two roles. Everything that writes them.

A colleague is invited by email: a user named by that address, with no password yet, and a
set-password link made by Django's password-reset machinery (its token generator and its
confirm view), mailed by a task. The product never runs without an active survey admin: the
last one can neither be demoted nor deactivated (409).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .roles import MANAGER, SURVEY_ADMIN

ROLES = (SURVEY_ADMIN, MANAGER)


class ColleagueError(Exception):
    """A change the page refuses, with the HTTP status it answers (409 by default)."""

    def __init__(self, message: str, *, status: int = 409):
        super().__init__(message)
        self.status = status


def colleagues() -> QuerySet[User]:
    """Everyone who can log in to the product's pages (a role or a superuser), active first."""
    return (
        User.objects.filter(Q(is_superuser=True) | Q(groups__name__in=ROLES))
        .distinct()
        .prefetch_related("groups")
        .order_by("-is_active", "username")
    )


def role_of(user: User) -> str:
    names = {g.name for g in user.groups.all()}
    return SURVEY_ADMIN if user.is_superuser or SURVEY_ADMIN in names else MANAGER


def _active_admins() -> QuerySet[User]:
    return User.objects.filter(
        Q(is_superuser=True) | Q(groups__name=SURVEY_ADMIN), is_active=True
    ).distinct()


def _keep_an_admin(user: User) -> None:
    """Refuse a change that would leave no active survey admin."""
    # Lock the admins' rows, so two admins demoting each other at once cannot both succeed.
    list(User.objects.select_for_update().filter(pk__in=_active_admins().values("pk")))
    if not _active_admins().exclude(pk=user.pk).exists():
        raise ColleagueError(
            _("%(name)s is the last survey admin: make someone else survey admin first.")
            % {"name": user.get_username()}
        )


def _set_role(user: User, role: str) -> None:
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get_or_create(name=role)[0])


@transaction.atomic
def invite_colleague(*, email: str, name: str = "", role: str) -> User:
    """A new colleague, without a password until they set one through the mailed link.
    ColleagueError (409) when someone has that email or user name already."""
    email = email.strip().lower()
    if role not in ROLES:
        raise ColleagueError(_("Choose a role."), status=400)
    if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise ColleagueError(_("%(email)s is a colleague already.") % {"email": email})
    first, _space, last = name.strip().partition(" ")
    user = User(username=email, email=email, first_name=first[:150], last_name=last[:150])
    user.set_unusable_password()
    user.save()
    _set_role(user, role)
    return user


@transaction.atomic
def change_role(*, user: User, role: str) -> None:
    if role not in ROLES:
        raise ColleagueError(_("Choose a role."), status=400)
    if user.is_superuser:
        raise ColleagueError(_("A superuser's role is changed in the Django admin."))
    if role == MANAGER and role_of(user) == SURVEY_ADMIN and user.is_active:
        _keep_an_admin(user)
    _set_role(user, role)


@transaction.atomic
def set_active(*, user: User, active: bool) -> None:
    """Deactivate (they can no longer log in; their history stays) or reactivate a colleague."""
    if not active and user.is_active and role_of(user) == SURVEY_ADMIN:
        _keep_an_admin(user)
    User.objects.filter(pk=user.pk).update(is_active=active)
