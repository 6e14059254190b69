"""The follow-up pages: the queue and its actions (managers and admins), settings (admins)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from access.roles import is_survey_admin
from access.views import reports_viewer_required, survey_admin_required
from surveys.models import Survey

from . import forms, metrics, selectors, services
from .errors import FollowUpError
from .models import FollowUp, FollowUpSettings

QUEUE_DAYS = 30
PAGE_SIZE = 100


@reports_viewer_required
@require_http_methods(["GET"])
def queue(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    data.setdefault("status", "unresolved")
    form = forms.QueueFilterForm(data)
    if not form.is_valid():
        context = {"form": form, "follow_ups": [], "counts": selectors.status_counts()}
        return render(request, "followups/queue.html", context, status=400)
    f = form.cleaned_data
    assignee = f["assignee"]
    if assignee == "me":
        assignee = request.user
    rows = selectors.queue(
        status=f["status"],
        assignee=assignee if assignee not in ("", "none") else None,
        unassigned=assignee == "none",
        survey=f["survey"],
        overdue=f["overdue"],
    )
    today = timezone.localdate()
    start = today - timedelta(days=QUEUE_DAYS - 1)
    loop = metrics.loop_times(f["survey"], start, today)
    context = {
        "form": form,
        "follow_ups": rows[:PAGE_SIZE],
        "total": rows.count(),
        "page_size": PAGE_SIZE,
        "counts": selectors.status_counts(),
        "loop": loop,
        "loop_days": QUEUE_DAYS,
        "surveys": Survey.objects.exclude(status=Survey.Status.DRAFT).order_by("name"),
        "users": selectors.assignable_users(),
        "selected_survey": f["survey"],
        "now": timezone.now(),
        "can_configure": is_survey_admin(request.user),
    }
    return render(request, "followups/queue.html", context)


def _detail_context(request, follow_up: FollowUp, **extra) -> dict:
    return {
        "follow_up": follow_up,
        "scores": follow_up.scores_in(get_language() or "en"),
        "notes": list(follow_up.notes.all()),
        "assign_form": extra.pop("assign_form", None)
        or forms.AssignForm(initial={"assignee": follow_up.assignee}),
        "note_form": extra.pop("note_form", None) or forms.NoteForm(),
        "contact_form": extra.pop("contact_form", None) or forms.ContactForm(),
        "users": selectors.assignable_users(),
        "outcomes": FollowUp.Outcome.choices,
        "can_configure": is_survey_admin(request.user),
        **extra,
    }


def _load(pk: int) -> FollowUp:
    follow_up = selectors.follow_up_detail(pk)
    if follow_up is None:
        raise Http404
    return follow_up


@reports_viewer_required
@require_http_methods(["GET"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "followups/detail.html", _detail_context(request, _load(pk)))


def _act(request: HttpRequest, pk: int, form_class, action, form_key: str) -> HttpResponse:
    """Validate the posted form and run the action; 400 (form) or 4xx (domain) re-render the page."""
    follow_up = _load(pk)
    form = form_class(request.POST)
    if not form.is_valid():
        context = _detail_context(request, follow_up, **{form_key: form})
        return render(request, "followups/detail.html", context, status=400)
    try:
        message = action(follow_up, form.cleaned_data)
    except FollowUpError as error:
        context = _detail_context(request, follow_up, error=str(error), **{form_key: form})
        return render(request, "followups/detail.html", context, status=error.status)
    messages.success(request, message)
    return redirect("followup-detail", pk=follow_up.pk)


@reports_viewer_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    def action(follow_up, data):
        services.assign_follow_up(follow_up=follow_up, assignee=data["assignee"], by=request.user)
        return _("Assignee saved.")

    return _act(request, pk, forms.AssignForm, action, "assign_form")


@reports_viewer_required
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    def action(follow_up, data):
        services.add_note(follow_up=follow_up, text=data["text"], by=request.user)
        return _("Note added.")

    return _act(request, pk, forms.NoteForm, action, "note_form")


@reports_viewer_required
@require_POST
def contacted(request: HttpRequest, pk: int) -> HttpResponse:
    def action(follow_up, data):
        services.record_contact(
            follow_up=follow_up, outcome=data["outcome"], text=data["text"], by=request.user
        )
        return _("Contact recorded.")

    return _act(request, pk, forms.ContactForm, action, "contact_form")


@reports_viewer_required
@require_POST
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    def action(follow_up, data):
        services.change_status(
            follow_up=follow_up, status=data["status"], text=data["text"], by=request.user
        )
        return {
            FollowUp.Status.RESOLVED: _("Follow-up resolved."),
            FollowUp.Status.IN_PROGRESS: _("Follow-up in progress."),
            FollowUp.Status.OPEN: _("Follow-up reopened."),
        }[data["status"]]

    return _act(request, pk, forms.StatusForm, action, "status_form")


def _routing_initial(config: FollowUpSettings) -> list[dict]:
    if not config.pk:
        return []
    return [
        {
            "field": r.field,
            "attribute": r.attribute,
            "value": r.value,
            "owner": r.owner,
            "ORDER": i + 1,
        }
        for i, r in enumerate(config.rules.select_related("owner"))
    ]


@survey_admin_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    config = FollowUpSettings.for_survey(survey)
    status = 200
    if request.method == "POST":
        form = forms.SettingsForm(request.POST, instance=config, survey=survey)
        routing = forms.RoutingFormSet(request.POST, prefix="rule")
        if form.is_valid() and routing.is_valid():
            kept = [
                f
                for f in routing.ordered_forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            rules = [
                {k: f.cleaned_data[k] for k in ("field", "attribute", "value", "owner")}
                for f in kept
            ]
            data = {name: form.cleaned_data[name] for name in form.Meta.fields}
            services.save_settings(survey=survey, data=data, routing=rules)
            messages.success(request, _("Follow-up settings saved."))
            return redirect("followup-settings", slug=survey.slug)
        status = 400
    else:
        form = forms.SettingsForm(instance=config, survey=survey)
        routing = forms.RoutingFormSet(initial=_routing_initial(config), prefix="rule")
    context = {
        "survey": survey,
        "form": form,
        "routing": routing,
        "primary": survey.primary_question(),
        "surveys": Survey.objects.exclude(status=Survey.Status.ARCHIVED).order_by("name"),
        "queue_url": reverse("followup-queue") + f"?survey={survey.slug}",
    }
    return render(request, "followups/settings.html", context, status=status)
