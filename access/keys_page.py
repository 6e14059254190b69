"""The API keys page (survey admins): make a key and see its secret once, list and revoke keys."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .models import ApiKey
from .views import survey_admin_required


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("The system that will use it, e.g. shop or bi-tool."),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Access"), choices=ApiKey.Scope.choices, initial=ApiKey.Scope.FULL
    )


def _page(request: HttpRequest, form: ApiKeyForm, *, secret: str = "", status: int = 200):
    keys = ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")
    # The secret is on this page once: no cache may keep a copy, which every page's default
    # (csat_platform.middleware: private, no-store) already says.
    return render(
        request,
        "access/api_keys.html",
        {"form": form, "keys": keys, "secret": secret, "section": "keys"},
        status=status,
    )


@survey_admin_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        key, secret = services.create_api_key(
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            created_by=request.user,
        )
    except services.ApiKeyError as error:
        form.add_error("name", str(error))
        return _page(request, form, status=error.status)
    # Shown on this response only, never stored: a reload does not show it again.
    return _page(request, ApiKeyForm(), secret=secret, status=201)


@survey_admin_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    if not ApiKey.objects.filter(pk=key_id).exists():
        raise Http404
    key = services.revoke_api_key(key_id=key_id)
    messages.success(request, _("The key “%(name)s” is revoked.") % {"name": key.name})
    return redirect("api-keys")
