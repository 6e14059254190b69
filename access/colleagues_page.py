"""The colleagues page (survey admins): invite by email with a role, change roles, deactivate."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from csat_platform.boundary import shows_rejected_fields

from . import colleagues
from .roles import MANAGER, SURVEY_ADMIN, role_label
from .tasks import send_colleague_invitation
from .views import survey_admin_required


class RoleField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=[
                (SURVEY_ADMIN, gettext_lazy("Survey admin")),
                (MANAGER, gettext_lazy("Manager")),
            ],
            **kwargs,
        )


class InviteColleagueForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=150)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150, required=False)
    role = RoleField(label=gettext_lazy("Role"), initial=MANAGER)


class RoleForm(forms.Form):
    role = RoleField()


def _page(request: HttpRequest, form: InviteColleagueForm, *, error: str = "", status: int = 200):
    people = [
        {
            "user": user,
            "role": colleagues.role_of(user),
            "label": role_label(colleagues.role_of(user)),
        }
        for user in colleagues.colleagues()
    ]
    context = {
        "form": form,
        "people": people,
        "error": error,
        "section": "colleagues",
        "roles": [(SURVEY_ADMIN, role_label(SURVEY_ADMIN)), (MANAGER, role_label(MANAGER))],
    }
    return render(request, "access/colleagues.html", context, status=status)


@shows_rejected_fields
@survey_admin_required
@require_http_methods(["GET", "POST"])
def colleagues_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, InviteColleagueForm())
    form = InviteColleagueForm(request.POST)
    for name, message in (getattr(request, "rejected_fields", None) or {}).items():
        form.add_error(name if name in form.fields else None, message)
    if form.errors or not form.is_valid():
        return _page(request, form, status=400)
    try:
        user = colleagues.invite_colleague(
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
        )
    except colleagues.ColleagueError as error:
        form.add_error("email", str(error))
        return _page(request, form, status=error.status)
    inviter = request.user.get_full_name() or request.user.get_username()
    language = translation.get_language()
    transaction.on_commit(lambda: send_colleague_invitation.delay(user.pk, inviter, language))
    messages.success(
        request,
        _("%(email)s is invited and gets an email to set a password.") % {"email": user.email},
    )
    return redirect("colleagues")


def _change(request: HttpRequest, user_id: int, change) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    try:
        change(user)
    except colleagues.ColleagueError as error:
        return _page(request, InviteColleagueForm(), error=str(error), status=error.status)
    return redirect("colleagues")


@survey_admin_required
@require_POST
def colleague_role(request: HttpRequest, user_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _page(request, InviteColleagueForm(), error=_("Choose a role."), status=400)

    def change(user):
        colleagues.change_role(user=user, role=form.cleaned_data["role"])
        messages.success(
            request,
            _("%(name)s is now %(role)s.")
            % {"name": user.get_username(), "role": role_label(form.cleaned_data["role"])},
        )

    return _change(request, user_id, change)


@survey_admin_required
@require_POST
def colleague_active(request: HttpRequest, user_id: int) -> HttpResponse:
    active = request.POST.get("active") == "1"

    def change(user):
        colleagues.set_active(user=user, active=active)
        message = _("%(name)s can log in again.") if active else _("%(name)s is deactivated.")
        messages.success(request, message % {"name": user.get_username()})

    return _change(request, user_id, change)
