"""Rollups: small tables of counts the reports read instead of scanning every response.

Each rollup row is a pure function of the raw rows of one survey and one local day (in the
site's TIME_ZONE), so recomputing a day (delete its rows, insert them again) gives the same rows.
Test responses are never counted.
"""

from django.db import models

from surveys.models import Question, Survey


class AnswerRollup(models.Model):
    """Answers per local day × question × dimension value × score.

    `dimension` is "" for the totals (value ""), "touchpoint" (Response.touchpoint_type),
    "language" (Response.locale) or "attr:<name>" (one row per attribute value). Every answer is
    counted once in the totals and once in each dimension it has a value for.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    dimension = models.CharField(max_length=120)
    value = models.CharField(max_length=200)
    score = models.SmallIntegerField()
    answers = models.PositiveIntegerField()
    satisfied = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # also serves a filtered report: one value of one dimension over a day range
            models.UniqueConstraint(
                fields=["question", "dimension", "value", "day", "score"],
                name="answer_rollup_key",
            ),
        ]
        indexes = [
            # serves a breakdown: every value of one dimension over a day range
            models.Index(
                fields=["question", "dimension", "day"],
                name="answer_rollup_breakdown",
                include=["value", "score", "answers", "satisfied"],
            ),
            # serves recomputing one day of one survey
            models.Index(fields=["survey", "day"], name="answer_rollup_survey_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} q{self.question_id} {self.dimension}={self.value} {self.score}: {self.answers}"


class AnswerPairRollup(models.Model):
    """Answers per local day × question × (filter dimension value, breakdown dimension value) × score.

    Serves a report filtered on one dimension and broken down by another (e.g. agent=Ann by
    product), which the one-dimensional rollup cannot answer exactly. Each unordered pair of
    dimensions is stored once, `dimension` < `dimension2`.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    dimension = models.CharField(max_length=120)
    value = models.CharField(max_length=200)
    dimension2 = models.CharField(max_length=120)
    value2 = models.CharField(max_length=200)
    score = models.SmallIntegerField()
    answers = models.PositiveIntegerField()
    satisfied = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # serves "filter on the first dimension, break down by the second"
            models.Index(
                fields=["question", "dimension", "value", "dimension2", "day"],
                name="answer_pair_first",
            ),
            # serves "filter on the second dimension, break down by the first"
            models.Index(
                fields=["question", "dimension2", "value2", "dimension", "day"],
                name="answer_pair_second",
            ),
            # serves recomputing one day of one survey
            models.Index(fields=["survey", "day"], name="answer_pair_survey_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} q{self.question_id} {self.dimension}={self.value} {self.dimension2}={self.value2}"


class InvitationRollup(models.Model):
    """Invitations sent on a local day, with how many of them were clicked and answered."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    dimension = models.CharField(max_length=120)
    value = models.CharField(max_length=200)
    sent = models.PositiveIntegerField()
    clicked = models.PositiveIntegerField()
    answered = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # serves the response rate of a report (one value of one dimension over a range)
            models.UniqueConstraint(
                fields=["survey", "dimension", "value", "day"], name="invitation_rollup_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} s{self.survey_id} {self.dimension}={self.value}: {self.sent} sent"


class ContactDay(models.Model):
    """A day on which a contact was active in a scope, with the contact's previous active day.

    Scopes: "respondents:<survey id>" (non-test responses) and "customers:<touchpoint type>"
    (touchpoint events). The distinct contacts of a scope in [start, end] are exactly the rows
    with start <= day <= end whose previous_day is null or before start.
    """

    scope = models.CharField(max_length=60)
    contact_id = models.BigIntegerField()
    day = models.DateField()
    previous_day = models.DateField(null=True)

    class Meta:
        constraints = [
            # also serves finding a contact's neighbouring active days when a day changes
            models.UniqueConstraint(fields=["scope", "contact_id", "day"], name="contact_day_key"),
        ]
        indexes = [
            # serves recomputing one day of one scope
            models.Index(fields=["scope", "day"], name="contact_day_scope_day"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} contact {self.contact_id} on {self.day}"


class CoverageRollup(models.Model):
    """ContactDay rows counted per (scope, day, previous_day): distinct contacts over any range
    are a sum over at most (days in range × distinct previous days) small rows."""

    scope = models.CharField(max_length=60)
    day = models.DateField()
    previous_day = models.DateField(null=True)
    contacts = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # serves the coverage of a report: distinct contacts of a scope in a day range
            models.Index(
                fields=["scope", "day"],
                name="coverage_rollup_scope_day",
                include=["previous_day", "contacts"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.day} after {self.previous_day}: {self.contacts}"


class DirtyDay(models.Model):
    """A survey day whose rollups must be recomputed (marked when an answer is stored)."""

    survey_id = models.BigIntegerField()
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey_id", "day"], name="dirty_day_once"),
        ]

    def __str__(self) -> str:
        return f"survey {self.survey_id} {self.day}"


class RollupWatermark(models.Model):
    """The highest id of a raw table already folded into the rollups (touchpoint events)."""

    name = models.CharField(max_length=40, primary_key=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} up to {self.last_id}"
