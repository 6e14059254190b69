"""Closing the loop: per-survey follow-up settings, routing, follow-ups, webhooks, alert state."""

import secrets

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reports.redact import comment_for_display
from surveys.attributes import value_matches
from surveys.models import Contact, Response, Survey


class FollowUpSettings(models.Model):
    """When an answer opens a follow-up, who owns it, how fast it must be handled, and alerts.

    A survey without a row behaves like a row with the defaults (see `for_survey`).
    """

    survey = models.OneToOneField(
        Survey, on_delete=models.CASCADE, related_name="followup_settings"
    )
    enabled = models.BooleanField(_("open follow-ups"), default=True)
    on_not_satisfied = models.BooleanField(
        _("when the primary answer is not satisfied"), default=True
    )
    # "As bad as N or worse" on the primary question's own scale (for a reversed scale, N or more).
    score_at_most = models.SmallIntegerField(_("when the score is at most"), null=True, blank=True)
    keywords = models.JSONField(
        _("when the comment contains"), default=list, blank=True, help_text=_("Words or phrases.")
    )
    sla_hours = models.PositiveIntegerField(_("handle within (hours)"), default=48)
    default_owner = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        verbose_name=_("default owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    alert_window_days = models.PositiveIntegerField(_("alert window (days)"), default=7)
    alert_drop_points = models.DecimalField(
        _("alert on a drop of more than (points)"), max_digits=5, decimal_places=2, default=10
    )
    alert_min_answers = models.PositiveIntegerField(
        _("minimum answers before alerting"), default=20
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("follow-up settings")
        verbose_name_plural = _("follow-up settings")
        constraints = [
            models.CheckConstraint(condition=Q(sla_hours__gte=1), name="followup_sla_positive"),
            models.CheckConstraint(
                condition=Q(alert_window_days__gte=1) & Q(alert_window_days__lte=365),
                name="followup_alert_window_range",
            ),
        ]

    def __str__(self) -> str:
        return f"follow-up settings of {self.survey}"

    @classmethod
    def for_survey(cls, survey: Survey) -> "FollowUpSettings":
        """The survey's settings, or unsaved defaults."""
        found = cls.objects.filter(survey=survey).select_related("default_owner").first()
        return found or cls(survey=survey)


class RoutingRule(models.Model):
    """The first matching rule (by position) gives a new follow-up its owner."""

    class Field(models.TextChoices):
        ATTRIBUTE = "attribute", _("Attribute")
        TOUCHPOINT_TYPE = "touchpoint_type", _("Touchpoint type")

    settings = models.ForeignKey(FollowUpSettings, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0)
    field = models.CharField(max_length=20, choices=Field.choices, default=Field.ATTRIBUTE)
    attribute = models.CharField(
        max_length=100, blank=True, help_text=_("The attribute's name, e.g. team.")
    )
    value = models.CharField(max_length=200)
    owner = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["settings", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(field="attribute") | ~Q(attribute=""),
                name="routing_attribute_named",
            )
        ]

    def __str__(self) -> str:
        what = (
            f"attributes.{self.attribute}" if self.field == self.Field.ATTRIBUTE else "touchpoint"
        )
        return f"{what} == {self.value!r} → {self.owner}"

    def matches(self, *, attributes: dict, touchpoint_type: str) -> bool:
        """Exactly, as the dashboards show values and surveys filter them (surveys.attributes)."""
        if self.field == self.Field.TOUCHPOINT_TYPE:
            return touchpoint_type == self.value
        return value_matches((attributes or {}).get(self.attribute), self.value)


class FollowUp(models.Model):
    """An unhappy answer someone must act on. One per response, enforced by the database."""

    class Status(models.TextChoices):
        # A state, not the verb: "Open" on a button is translated apart.
        OPEN = "open", pgettext_lazy("follow-up status", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached the customer")
        LEFT_MESSAGE = "left_message", _("Left a message")
        EMAILED = "emailed", _("Sent an email")
        NO_ANSWER = "no_answer", _("Could not reach them")

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="follow_up")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="follow_ups")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    reason = models.CharField(max_length=200, help_text=_("Why the answer opened a follow-up."))
    # The rule behind `reason` ({"rule", "score", "limit", "word"}), worded in the reader's
    # language on every page; `reason` keeps it in the site's language for mails and webhooks.
    trigger = models.JSONField(default=dict, blank=True)
    # What the customer said, copied when the follow-up opened: [{key, text, score, label, satisfied}].
    scores = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    touchpoint_type = models.CharField(max_length=40, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    opened_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    first_contact_at = models.DateTimeField(null=True, blank=True)
    contact_outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(status="resolved"),
                name="followup_resolved_has_status",
            ),
        ]
        indexes = [
            # serves the queue: unresolved follow-ups, overdue first
            models.Index(fields=["status", "due_at"], name="followup_status_due"),
            # serves loop_times: follow-ups of a survey opened in a date range
            models.Index(fields=["survey", "opened_at"], name="followup_survey_opened"),
            # serves "my follow-ups"
            models.Index(fields=["assignee", "status"], name="followup_assignee_status"),
        ]

    def __str__(self) -> str:
        return f"follow-up {self.pk} ({self.status})"

    @property
    def is_overdue(self) -> bool:
        return self.status != self.Status.RESOLVED and self.due_at <= timezone.now()

    @property
    def reason_text(self) -> str:
        """Why it opened, in the active language (the stored text for follow-ups from before)."""
        from .rules import Trigger

        trigger = Trigger.from_dict(self.trigger)
        return trigger.text() if trigger else self.reason

    @property
    def comment_shown(self) -> str:
        """The comment as pages, mails and webhooks show it: contact details masked while
        HIDE_CONTACT_DETAILS_IN_COMMENTS is on (reports.redact decides)."""
        return comment_for_display(self.comment)

    def scores_in(self, language: str) -> list[dict]:
        """The scores with each question's text and label in `language` (the stored copy for a
        question the survey no longer has)."""
        questions = {q.key: q for q in self.survey.questions.all()}
        out = []
        for row in self.scores:
            question = questions.get(row.get("key"))
            if question is None:
                out.append(row)
                continue
            label = question.label_of(row.get("score"), language) or row.get("label", "")
            out.append({**row, "text": question.text_in(language), "label": label})
        return out

    @property
    def primary_score(self) -> dict | None:
        return next(
            (s for s in self.scores if s.get("primary")), self.scores[0] if self.scores else None
        )


class FollowUpNote(models.Model):
    """One entry of a follow-up's timeline: a note, an assignment, a contact, a status change."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        NOTE = "note", _("Note")
        ASSIGNED = "assigned", _("Assigned")
        CONTACTED = "contacted", _("Contacted the customer")
        STATUS = "status", _("Status changed")

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NOTE)
    # What the person wrote. What the product records (opened because..., assigned to...,
    # resolved) is in `event` and worded in the reader's language (display_text).
    text = models.TextField(blank=True)
    event = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on follow-up {self.follow_up_id}"

    def event_text(self) -> str:
        """The recorded event as a sentence in the active language ("" for a plain note)."""
        from .rules import Trigger

        event = self.event or {}
        if self.kind == self.Kind.OPENED and "trigger" in event:
            trigger = Trigger.from_dict(event["trigger"])
            return _("Opened: %(reason)s. Owner: %(owner)s.") % {
                "reason": trigger.text() if trigger else "",
                "owner": event.get("owner") or _("nobody yet"),
            }
        if self.kind == self.Kind.ASSIGNED and "assignee" in event:
            if not event["assignee"]:
                return str(_("Unassigned."))
            return _("Assigned to %(user)s.") % {"user": event["assignee"]}
        if self.kind == self.Kind.CONTACTED and event.get("outcome") in FollowUp.Outcome.values:
            return f"{FollowUp.Outcome(event['outcome']).label}."
        if self.kind == self.Kind.STATUS and event.get("status") in FollowUp.Status.values:
            return str(
                {
                    FollowUp.Status.RESOLVED: _("Resolved."),
                    FollowUp.Status.IN_PROGRESS: _("In progress."),
                    FollowUp.Status.OPEN: _("Reopened."),
                }[event["status"]]
            )
        return ""

    @property
    def display_text(self) -> str:
        """The event in the reader's language, then what the person wrote."""
        return " ".join(part for part in (self.event_text(), self.text) if part)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Webhook(models.Model):
    """An outgoing webhook: signed JSON (or a Slack-compatible text) for the chosen events."""

    class Event(models.TextChoices):
        FOLLOWUP_OPENED = "followup.opened", _("A follow-up was opened")
        FOLLOWUP_RESOLVED = "followup.resolved", _("A follow-up was resolved")
        CSAT_ALERT = "csat.alert", _("CSAT fell below its target or dropped")

    class Format(models.TextChoices):
        JSON = "json", _("Signed JSON")
        SLACK = "slack", _('Slack-compatible text ({"text": ...})')

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    active = models.BooleanField(default=True)
    events = models.JSONField(default=list, help_text=_("Event names, e.g. followup.opened."))
    payload_format = models.CharField(max_length=10, choices=Format.choices, default=Format.JSON)
    survey = models.ForeignKey(
        Survey,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text=_("Only this survey's events; empty for all surveys."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one webhook; retried with backoff until it succeeds or attempts run out."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    follow_up = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    body = models.TextField(help_text=_("The exact JSON sent (and signed)."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: every HTTP attempt with its status code or error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempt = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["delivery", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "attempt"], name="webhook_attempt_once")
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt} of delivery {self.delivery_id}: {self.status_code or self.error}"


class CsatAlert(models.Model):
    """Alert state per survey and kind: fires once, re-arms only after the figure recovers."""

    class Kind(models.TextChoices):
        BELOW_TARGET = "below_target", _("Below target")
        DROPPED = "dropped", _("Dropped significantly")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="csat_alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    firing = models.BooleanField(default=False)
    fired_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    times_fired = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "kind"], name="csat_alert_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} alert of {self.survey} ({'firing' if self.firing else 'armed'})"
