from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import scales


class Touchpoint(models.TextChoices):
    PURCHASE = "purchase", _("After a purchase")
    SUPPORT_CONTACT = "support_contact", _("After a support contact")
    OTHER = "other", _("Other")


class Survey(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ARCHIVED = "archived", _("Archived")

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    touchpoint = models.CharField(max_length=40, choices=Touchpoint.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    languages = models.JSONField(
        default=list, help_text="Language codes; the first is the default."
    )
    # Texts meant for customers are {"en": "...", "de": "..."}.
    # The title customers see on the answer page and in the email; empty: the name.
    title = models.JSONField(default=dict, blank=True)
    intro = models.JSONField(default=dict, blank=True)
    thank_you = models.JSONField(default=dict, blank=True)
    email_subject = models.JSONField(default=dict, blank=True)
    email_body = models.JSONField(default=dict, blank=True)
    csat_target = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    # Who gets the survey, and when.
    send_delay_minutes = models.PositiveIntegerField(default=0)
    expires_after_days = models.PositiveIntegerField(default=14)
    reminder_after_days = models.PositiveIntegerField(null=True, blank=True)
    # A customer is surveyed at most once in this many days, across all surveys (0: no limit).
    min_days_between_surveys = models.PositiveIntegerField(default=30)
    sample_rate = models.FloatField(default=1.0)
    filters = models.JSONField(default=dict, blank=True, help_text='{"channel": ["web", "phone"]}')
    # No survey is due between these local times of the customer; start > end spans midnight.
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sample_rate__gte=0) & Q(sample_rate__lte=1), name="sample_rate_0_1"
            ),
            models.CheckConstraint(
                condition=Q(csat_target__isnull=True)
                | (Q(csat_target__gte=0) & Q(csat_target__lte=100)),
                name="csat_target_percent",
            ),
        ]
        indexes = [
            # serves "active surveys listening to this touchpoint type" on every event
            models.Index(fields=["touchpoint", "status"], name="survey_touchpoint_status"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else settings.LANGUAGE_CODE

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def text(self, field: str, language: str) -> str:
        return localized(getattr(self, field), language, self.default_language)

    def public_title(self, language: str) -> str:
        """What customers see as the survey's title: its title, else its (internal) name."""
        return self.text("title", language) or self.name

    def primary_question(self) -> "Question | None":
        """The survey's primary question: see primary_of."""
        return primary_of(self.questions.all())


def primary_of(questions: "Iterable[Question]") -> "Question | None":
    """Which question is primary, decided here only: the scored question marked primary, else
    the first scored question (by position). Its answer is the one the dashboards' CSAT, the
    email's clickable scale, the answer page's preselection and the follow-up rules read; a
    response that skipped it has no primary answer (another question's answer never stands in).
    """
    scored = sorted((q for q in questions if q.is_scored), key=lambda q: (q.position, q.id or 0))
    return next((q for q in scored if q.primary), scored[0] if scored else None)


def localized(texts: dict | str | None, language: str, fallback: str) -> str:
    """The text in `language`, else in `fallback`, else any; a plain string is itself."""
    if not texts:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(language) or texts.get(fallback) or next(iter(texts.values()), "")


class Question(models.Model):
    Kind = models.TextChoices("Kind", [(k, k) for k in scales.KINDS])
    # What publishing freezes: changing these after answers exist would corrupt the figures.
    FROZEN_FIELDS = ("kind", "scale", "reversed", "satisfied")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(max_length=50)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    scale = models.CharField(max_length=10, blank=True)
    text = models.JSONField(default=dict)
    # {"en": ["label of the first point", ...]} in display order; missing languages use defaults.
    labels = models.JSONField(default=dict, blank=True)
    reversed = models.BooleanField(default=False)
    satisfied = models.JSONField(default=list, blank=True)
    primary = models.BooleanField(default=False)
    required = models.BooleanField(default=False)
    max_length = models.PositiveIntegerField(default=1000)
    # Set when the survey is published: scale, direction and satisfied set can no longer change.
    frozen = models.BooleanField(default=False)

    class Meta:
        ordering = ["survey", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="question_key_unique"),
            models.UniqueConstraint(
                fields=["survey"], condition=Q(primary=True), name="one_primary_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey.slug}:{self.key}"

    @property
    def is_scored(self) -> bool:
        return self.kind != scales.COMMENT

    @property
    def scale_def(self) -> scales.Scale | None:
        return scales.SCALES.get(self.scale) if self.is_scored else None

    def text_in(self, language: str) -> str:
        """The question's text in `language`, else the survey's first language's, else its key."""
        return localized(self.text, language, self.survey.default_language) or self.key

    def labels_in(self, language: str) -> list[str]:
        if not self.is_scored:
            return []
        chosen = self.labels.get(language) if isinstance(self.labels, dict) else None
        if chosen:
            return chosen
        if language in scales.LANGUAGES:
            return scales.default_labels(self.kind, self.scale, language, self.reversed)
        default = self.survey.default_language
        return self.labels.get(default) or scales.default_labels(
            self.kind, self.scale, default, self.reversed
        )

    def label_of(self, score: int | None, language: str) -> str:
        """The label of a score in `language` ("" for a score off the scale)."""
        points = list(self.scale_def.points) if self.scale_def else []
        labels = self.labels_in(language)
        if score not in points or len(labels) != len(points):
            return ""
        return labels[points.index(score)]

    def is_satisfied(self, score: int) -> bool:
        return score in self.satisfied


class Contact(models.Model):
    """A customer. Upserted from touchpoint events by external id, else by email."""

    email = models.EmailField(max_length=254, blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, null=True, blank=True, unique=True)
    locale = models.CharField(max_length=16, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    undeliverable_at = models.DateTimeField(null=True, blank=True)
    undeliverable_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # serves the touchpoint upsert: contacts of a batch by email, whatever its case
            models.Index(Lower("email"), name="contact_email_lower"),
        ]

    def __str__(self) -> str:
        return self.email or self.external_id or f"contact {self.pk}"


class TouchpointEvent(models.Model):
    """A purchase or support contact posted by a shop or helpdesk. Idempotent on (type, id)."""

    type = models.CharField(max_length=40)
    external_id = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="touchpoints")
    attributes = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["type", "external_id"], name="touchpoint_idempotent")
        ]
        indexes = [
            # serves coverage: distinct customers with a touchpoint in a period
            models.Index(fields=["type", "occurred_at"], name="touchpoint_type_time"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.external_id}"


class Invitation(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"
        EXPIRED = "expired", "Expired"
        BOUNCED = "bounced", "Bounced"

    class Channel(models.TextChoices):
        EMAIL = "email", _("Our survey email")
        # The helpdesk's own email carries the link (connectors.links): never mailed by us,
        # "sent" from its creation, no reminder.
        HELPDESK = "helpdesk", _("Delivered by the helpdesk")

    # No index of their own: (survey, sent_at) (reports) and (contact, created_at) serve them;
    # every index on this table is written by each sent invitation and each ingested event.
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="invitations", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="invitations", db_index=False
    )
    touchpoint = models.ForeignKey(
        TouchpointEvent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
    )
    # The link's token is derived from this salt with the secret key (surveys.tokens);
    # only its hash is stored, so the database alone does not reveal live links.
    salt = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)  # serves the answer page lookup
    locale = models.CharField(max_length=16, blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text="Frozen from the touchpoint.")
    is_test = models.BooleanField(default=False)
    # db_default too: the benchmarks' loaders write this table with COPY and leave it out.
    channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.EMAIL, db_default=Channel.EMAIL
    )

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    status_reason = models.CharField(max_length=500, blank=True)
    due_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The handover's two marks, cleared once its outcome is recorded (see surveys.sending).
    # handover_at: a worker took this message's handover; the server may have its envelope and
    # content but not its end, so it has nothing it could deliver: a claim found so is resent.
    handover_at = models.DateTimeField(null=True, blank=True)
    # terminator_at: committed right before the end of the message (SMTP's DATA terminator; an
    # ESP's API call) leaves: a claim found with it set has an unknown outcome and is not resent.
    terminator_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    message_id = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminder_due_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # serves the beat claim: due scheduled invitations, oldest first, and expired claims;
            # holds only the rows still to send, so a sent invitation leaves it
            models.Index(
                fields=["status", "due_at"],
                condition=Q(status__in=["scheduled", "sending"]),
                name="invitation_pending",
            ),
            # serves the delivery page: its counts per state and funnel step (selectors.
            # delivery_summary) and its lists per status, newest first, a page at a time
            # (selectors.invitation_page). No INCLUDE of the funnel's timestamps: an index on
            # clicked_at would cost every answer-page click its HOT update.
            models.Index(
                fields=["survey", "status", "id"],
                condition=Q(is_test=False),
                name="invitation_delivery",
            ),
            # serves the delivery page's list of answered invitations, newest first
            # (selectors.invitation_page): answers spread over every status
            models.Index(
                fields=["survey", "id"],
                condition=Q(is_test=False, answered_at__isnull=False),
                name="invitation_answered",
            ),
            # serves the fatigue rule: last invitation of a customer
            models.Index(fields=["contact", "created_at"], name="invitation_contact_time"),
            # serves the reminder claim: sent, unanswered invitations whose reminder is due
            models.Index(
                fields=["reminder_due_at"],
                condition=Q(status="sent", reminder_sent_at__isnull=True, answered_at__isnull=True),
                name="invitation_reminder_due",
            ),
            # serves expiry: sent, unanswered invitations whose link has run out
            models.Index(
                fields=["expires_at"],
                condition=Q(status="sent", answered_at__isnull=True),
                name="invitation_open_expiry",
            ),
            # serves bounce webhooks: the invitation a provider's event speaks of (sent ones)
            models.Index(
                fields=["message_id"], condition=~Q(message_id=""), name="invitation_sent_message"
            ),
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class Response(models.Model):
    """One completed survey. At most one per invitation, enforced by the database."""

    class Source(models.TextChoices):
        WEB = "web", _("Answer page")
        IMPORT = "import", _("Import")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    locale = models.CharField(max_length=16, blank=True)
    touchpoint_type = models.CharField(max_length=40, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    is_test = models.BooleanField(default=False)
    import_key = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "import_key"], name="response_import_idempotent"
            ),
        ]
        indexes = [
            # serves rollup recomputation of one day of one survey
            models.Index(fields=["survey", "submitted_at"], name="response_survey_time"),
            # serves the dashboards' count of the test answers a period leaves out: test answers
            # are few, so the count reads them alone, not every answer of the period
            models.Index(
                fields=["survey", "submitted_at"],
                condition=Q(is_test=True),
                name="response_test_time",
            ),
        ]

    def __str__(self) -> str:
        return f"response {self.pk} to {self.survey_id}"


class Answer(models.Model):
    """One question's answer. `satisfied` is decided once, at write time, from the frozen question."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    score = models.SmallIntegerField(null=True, blank=True)
    score_norm = models.FloatField(null=True, blank=True, help_text="0 worst, 1 best.")
    satisfied = models.BooleanField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
        ]
        indexes = [
            # serves the delivery funnel's "commented" step (selectors.commented_count)
            models.Index(fields=["question"], condition=~Q(text=""), name="answer_with_text"),
        ]

    def __str__(self) -> str:
        return f"answer {self.pk} ({self.score if self.score is not None else 'text'})"


# --- Sending rules: why a touchpoint got no survey ----------------------------------------------


class TouchpointSkip(models.Model):
    """A survey listened to a touchpoint and decided not to invite, with the reason.

    Every (touchpoint, active listening survey) ends with either an invitation or one of these.
    """

    class Reason(models.TextChoices):
        FILTERED = "filtered", "Filtered out by the survey's attribute filters"
        STALE = "stale", "Too old: the link would have expired before it was sent"
        SAMPLED_OUT = "sampled_out", "Not in the sample"
        UNSUBSCRIBED = "unsubscribed", "Customer unsubscribed"
        UNDELIVERABLE = "undeliverable", "Customer's address is undeliverable or missing"
        FATIGUED = "fatigued", "Customer was surveyed recently"

    touchpoint = models.ForeignKey(TouchpointEvent, on_delete=models.CASCADE, related_name="skips")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="touchpoint_skips")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["touchpoint", "survey"], name="touchpoint_skip_once"),
        ]
        indexes = [
            # serves the delivery page: counts per reason of one survey (index-only) and the
            # skips of one reason, newest first (selectors.skip_page)
            models.Index(fields=["survey", "reason", "id"], name="touchpoint_skip_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.touchpoint} skipped by {self.survey_id}: {self.reason}"


class TouchpointUpload(models.Model):
    """A CSV file of touchpoints a survey admin uploaded for one survey: checked in the
    background (the preview), then, once confirmed, imported in the background, with progress
    and the counts of the result. The file itself lies under MEDIA_ROOT/uploads/."""

    class Status(models.TextChoices):
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Ready to import")
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    stored_as = models.CharField(max_length=255, help_text="Path under MEDIA_ROOT.")
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKING)
    lines_total = models.PositiveIntegerField(default=0)
    lines_done = models.PositiveIntegerField(default=0)
    # The check: the first rows as read, and how many rows are new or stored already.
    preview = models.JSONField(default=list, blank=True)
    rows_new = models.PositiveIntegerField(default=0)
    rows_existing = models.PositiveIntegerField(default=0)
    # Rejected lines, of the check and again of the import: [[line, reason], ...] (the first
    # MAX_REJECTED_KEPT; rejected_count counts them all).
    rejected = models.JSONField(default=list, blank=True)
    rejected_count = models.PositiveIntegerField(default=0)
    # The import's result.
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    invited = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True, help_text='{"fatigued": 3, ...}')
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The import's sign of life: set when it is queued and with every batch it commits. An
    # import queued or running without one for CSAT_UPLOAD_STALL_MINUTES has stalled.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Which run owns the import: a resume counts it up, and a run writes a batch only while the
    # row still names it, so a worker a resume replaced can never commit again.
    attempt = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # serves the send page: a survey's latest uploads
            models.Index(fields=["survey", "-created_at"], name="touchpoint_upload_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} for {self.survey_id} ({self.status})"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.CHECKING, self.Status.QUEUED, self.Status.RUNNING)
