"""Rollups: small tables of counts the reports read instead of scanning every response.

Each rollup row is a pure function of the raw rows of one survey and one local day (in the
site's TIME_ZONE), so recomputing a day (delete its rows, insert them again) gives the same rows.
Test responses are never counted.
"""

from datetime import date

from django.db import models

from surveys.models import Question, Survey


@models.DateField.register_lookup
class AnyOf(models.Lookup):
    """`period__anyof=[...]`: one array parameter (= ANY). The cubes (PostgreSQL) are read by
    lists of up to a thousand days; this keeps the query short."""

    lookup_name = "anyof"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [self.lhs.output_field.get_db_prep_value(v, connection) for v in self.rhs]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]

    def get_prep_lookup(self):
        return list(self.rhs)


class Grain(models.TextChoices):
    DAY = "d", "day"
    MONTH = "m", "month"


class AnswerCube(models.Model):
    """Answers of one question per local day (or closed month), in total and per dimension value.

    One row holds the count of every score (n0..n10) and how many were satisfied. `dimension` and
    `value` are "" for the total; dimensions are "touchpoint" (Response.touchpoint_type),
    "language" (Response.locale) and "attr:<name>". Month rows (grain "m", period = the 1st) are
    the sums of the month's day rows: a report reads whole closed months from them, so its cost
    does not grow with the length of its range.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    dimension = models.CharField(max_length=120, blank=True)
    value = models.CharField(max_length=200, blank=True)
    n0 = models.PositiveIntegerField(default=0)
    n1 = models.PositiveIntegerField(default=0)
    n2 = models.PositiveIntegerField(default=0)
    n3 = models.PositiveIntegerField(default=0)
    n4 = models.PositiveIntegerField(default=0)
    n5 = models.PositiveIntegerField(default=0)
    n6 = models.PositiveIntegerField(default=0)
    n7 = models.PositiveIntegerField(default=0)
    n8 = models.PositiveIntegerField(default=0)
    n9 = models.PositiveIntegerField(default=0)
    n10 = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # The one index: every read gives a list of periods, then the exact total or value,
            # or the values of a breakdown; a recompute's rows (one survey's days) are adjacent.
            models.UniqueConstraint(
                fields=["question", "grain", "period", "dimension", "value"],
                name="answer_cube_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.period} q{self.question_id} {self.dimension}={self.value}"


class AnswerPairCube(models.Model):
    """AnswerCube per pair of dimension values (`dimension` < `dimension2`): serves a report
    filtered on one dimension and broken down by (or also filtered on) another."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    dimension = models.CharField(max_length=120)
    value = models.CharField(max_length=200, blank=True)
    dimension2 = models.CharField(max_length=120)
    value2 = models.CharField(max_length=200, blank=True)
    n0 = models.PositiveIntegerField(default=0)
    n1 = models.PositiveIntegerField(default=0)
    n2 = models.PositiveIntegerField(default=0)
    n3 = models.PositiveIntegerField(default=0)
    n4 = models.PositiveIntegerField(default=0)
    n5 = models.PositiveIntegerField(default=0)
    n6 = models.PositiveIntegerField(default=0)
    n7 = models.PositiveIntegerField(default=0)
    n8 = models.PositiveIntegerField(default=0)
    n9 = models.PositiveIntegerField(default=0)
    n10 = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # serves every read: periods, the pair of dimensions, then an exact pair of values
            # or the values of one dimension under a fixed value of the other
            models.UniqueConstraint(
                fields=[
                    "question",
                    "grain",
                    "period",
                    "dimension",
                    "dimension2",
                    "value",
                    "value2",
                ],
                name="answer_pair_cube_key",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.grain}{self.period} q{self.question_id} "
            f"{self.dimension}={self.value} {self.dimension2}={self.value2}"
        )


class InvitationCube(models.Model):
    """Invitations sent on a local day (or closed month) × up to two dimension values, with how
    many of them bounced, were clicked, answered, and answered with a comment. Same dimensions
    and grains as AnswerCube; the touchpoint of an invitation is its survey's."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    dimension = models.CharField(max_length=120, blank=True)
    value = models.CharField(max_length=200, blank=True)
    dimension2 = models.CharField(max_length=120, blank=True)
    value2 = models.CharField(max_length=200, blank=True)
    sent = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    commented = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # serves every read (the exact key of a total, a value or a pair, period by period)
            # and recomputing the days or a month of the survey
            models.UniqueConstraint(
                fields=[
                    "survey",
                    "grain",
                    "period",
                    "dimension",
                    "dimension2",
                    "value",
                    "value2",
                ],
                name="invitation_cube_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.period} s{self.survey_id} {self.dimension}={self.value}: {self.sent} sent"


class CommentRollup(models.Model):
    """One comment (a non-empty answer to a comment question of a real response) with the score
    of its response's primary answer: what the comments page sorts, pages and counts by, so a
    page of comments never sorts every comment of the range. Holds no text and no personal data.
    """

    answer_id = models.BigIntegerField(primary_key=True)
    survey_id = models.BigIntegerField()
    response_id = models.BigIntegerField()
    submitted_at = models.DateTimeField()
    day = models.DateField()
    norm = models.FloatField(null=True)  # the primary answer's score_norm (0 worst, 1 best)
    band = models.CharField(max_length=8, blank=True)  # unhappy, neutral, happy or ""
    # {dimension: value} of the response (its touchpoint type and scalar attributes, as rollup
    # text), so a page filtered by touchpoint or attribute is still a walk of an index.
    dims = models.JSONField(default=dict)

    class Meta:
        indexes = [
            # serves "unhappy first": worst score first, newest first within a score
            models.Index(
                fields=["survey_id", "norm", "-submitted_at", "-answer_id"],
                name="comment_rollup_unhappy",
            ),
            # serves "newest first"
            models.Index(
                fields=["survey_id", "-submitted_at", "-answer_id"], name="comment_rollup_newest"
            ),
            # serves recomputing and counting days of a survey
            models.Index(fields=["survey_id", "day", "band"], name="comment_rollup_day"),
        ]

    def __str__(self) -> str:
        return f"comment {self.answer_id} ({self.band or 'no score'})"


class CommentCount(models.Model):
    """Comments per band on a local day (or closed month): in total (dimension ""), per
    touchpoint type or attribute value, and per pair of them (dimension < dimension2): the
    comments page's tab counts under one or two filters."""

    survey_id = models.BigIntegerField()
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    band = models.CharField(max_length=8, blank=True)
    dimension = models.CharField(max_length=120, blank=True, default="")
    value = models.CharField(max_length=200, blank=True, default="")
    dimension2 = models.CharField(max_length=120, blank=True, default="")
    value2 = models.CharField(max_length=200, blank=True, default="")
    comments = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # serves the counts of a range under its filters: months and days of one survey
            models.UniqueConstraint(
                fields=[
                    "survey_id",
                    "dimension",
                    "value",
                    "dimension2",
                    "value2",
                    "grain",
                    "period",
                    "band",
                ],
                name="comment_count_dimension_key",
            ),
        ]

    def __str__(self) -> str:
        return f"survey {self.survey_id} {self.grain}{self.period} {self.band}: {self.comments}"


class RollupOverflow(models.Model):
    """A dimension with too many distinct values on a survey day (order numbers, emails...):
    it has no cube rows that day (nor in that month), and a report that needs it reads the raw
    rows instead. Keeps the cubes' size bounded by what a breakdown can show."""

    class Kind(models.TextChoices):
        ANSWERS = "a", "answers"
        INVITATIONS = "i", "invitations"

    survey_id = models.BigIntegerField()
    kind = models.CharField(max_length=1, choices=Kind.choices)
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    dimension = models.CharField(max_length=120)

    class Meta:
        constraints = [
            # also serves "does a report over this range need the raw rows for this dimension"
            models.UniqueConstraint(
                fields=["survey_id", "kind", "dimension", "grain", "period"],
                name="rollup_overflow_once",
            ),
        ]

    def __str__(self) -> str:
        return f"survey {self.survey_id} {self.kind} {self.dimension} overflows {self.grain}{self.period}"


class DirtyMonth(models.Model):
    """A month whose day rows changed since its month rows were summed. Reports read such a
    month from its day rows until beat's refresh sums it again (closed months only)."""

    survey_id = models.BigIntegerField()
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey_id", "month"], name="dirty_month_once"),
        ]

    def __str__(self) -> str:
        return f"survey {self.survey_id} {self.month:%Y-%m}"


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
    """ContactDay rows counted per (scope, day, previous_day). The distinct contacts of a scope
    in [s, e] are the rows with s <= day <= e and previous_day null or before s."""

    scope = models.CharField(max_length=60)
    day = models.DateField()
    previous_day = models.DateField(null=True)
    contacts = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # serves recounting the days of a scope
            models.Index(
                fields=["scope", "day"],
                name="coverage_rollup_scope_day",
                include=["previous_day", "contacts"],
            ),
            # serves the part of a coverage count whose previous day falls in the month of the
            # range's start (at most a month of previous days: see CoverageGrid)
            models.Index(
                fields=["scope", "previous_day", "day"],
                name="coverage_rollup_previous",
                include=["contacts"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.day} after {self.previous_day}: {self.contacts}"


TOTAL_MONTH = date(9999, 12, 1)  # CoverageGrid.month of the running total


class CoverageGrid(models.Model):
    """Running counts over CoverageRollup for exact distinct counts in two lookups.

    For each day with rows of a scope and each month M from the scope's first month to the
    day's month: `contacts` = rows with day <= this day whose previous_day is null or before M.
    Month TOTAL_MONTH holds all rows up to this day. Distinct contacts in [s, e] with m = the
    1st of s's month: G(e, m) - G(s - 1, m) + the rows with previous_day in [m, s) and day in
    [s, e] (reports.selectors.RollupSource.coverage_counts).
    """

    scope = models.CharField(max_length=60)
    month = models.DateField()
    day = models.DateField()
    contacts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # serves "the latest row of this scope and month on or before a day"
            models.UniqueConstraint(fields=["scope", "month", "day"], name="coverage_grid_key"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} up to {self.day}, before {self.month}: {self.contacts}"


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
