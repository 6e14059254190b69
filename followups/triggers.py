"""When an answer calls for a follow-up, decided here only, as one query expression over a
survey's responses. The answer page asks it of the response just stored (the survey's rules
cached briefly), the task asks it again from the database and reads why, and the sweep asks it
of the recent answers that have no follow-up: so the sweep picks exactly the answers the task
opens, and nothing it would refuse can fill its batch.

The rules of a survey (its FollowUpSettings; the defaults without a row), in this order:
its primary answer (the answer to surveys.models.primary_of's question; a response that skipped
that question has none) is not satisfied; its score is N or worse (on a reversed scale, N or
more); a comment contains one of the keywords (case-insensitive, as the database compares text).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from csat_platform.prepared import prepared_cursor
from surveys.models import Answer, Question, Response, Survey, primary_of
from surveys.selectors import survey_questions

from .models import FollowUpSettings
from .rules import Trigger

CACHE_SECONDS = 30.0
_cache: dict[int, tuple[float, object, FollowUpRules]] = {}


@dataclass(frozen=True)
class FollowUpRules:
    """What opens a follow-up on one survey: its settings and its primary question."""

    enabled: bool
    on_not_satisfied: bool
    score_at_most: int | None
    keywords: tuple[str, ...]
    primary: Question | None

    @classmethod
    def of(cls, survey: Survey, settings: FollowUpSettings | None = None) -> FollowUpRules:
        settings = settings or FollowUpSettings.for_survey(survey)
        return cls(
            enabled=settings.enabled,
            on_not_satisfied=settings.on_not_satisfied,
            score_at_most=settings.score_at_most,
            keywords=tuple(w.strip() for w in settings.keywords or [] if w.strip()),
            primary=primary_of(survey_questions(survey)),
        )

    def triggers(self) -> list[tuple[Exists, Trigger]]:
        """Each rule as (the condition on a response, the trigger it gives), in order."""
        if not self.enabled:
            return []
        own = Answer.objects.filter(response=OuterRef("pk"))
        out = []
        if self.primary is not None:
            answer = own.filter(question=self.primary, score__isnull=False)
            if self.on_not_satisfied:
                out.append((Exists(answer.filter(satisfied=False)), Trigger("not_satisfied")))
            if self.score_at_most is not None:
                worse = "score__gte" if self.primary.reversed else "score__lte"
                out.append(
                    (
                        Exists(answer.filter(**{worse: self.score_at_most})),
                        Trigger("score", limit=self.score_at_most),
                    )
                )
        for word in self.keywords:
            out.append((Exists(own.filter(text__icontains=word)), Trigger("keyword", word=word)))
        return out


def with_triggers(responses: QuerySet[Response], rules: FollowUpRules) -> QuerySet[Response]:
    """`responses` that call for a follow-up under `rules`, each with `_trigger` (the index of
    the first rule that fires) and `_primary_score`."""
    rules_in_order = rules.triggers()
    if not rules_in_order:
        return responses.none()
    which = Case(
        *(When(condition, then=Value(i)) for i, (condition, _) in enumerate(rules_in_order)),
        default=None,
        output_field=IntegerField(),
    )
    score = Answer.objects.filter(response=OuterRef("pk"), question=rules.primary)
    return responses.annotate(
        _trigger=which,
        _primary_score=Subquery(score.values("score")[:1]) if rules.primary else Value(None),
    ).filter(_trigger__isnull=False)


def trigger_of(response_id: int, rules: FollowUpRules) -> Trigger | None:
    """Why the stored response calls for a follow-up under `rules`, or None: one query."""
    found = (
        with_triggers(Response.objects.filter(pk=response_id), rules)
        .values_list("_trigger", "_primary_score")
        .first()
    )
    if found is None:
        return None
    index, score = found
    trigger = rules.triggers()[index][1]
    if trigger.rule == "keyword":
        return trigger
    return Trigger(trigger.rule, score=score, limit=trigger.limit)


def cached_rules(survey: Survey) -> FollowUpRules:
    """The survey's rules, kept CACHE_SECONDS per process (the answer page's hot path): an admin's
    change reaches another process at most that late, and the task decides again anyway."""
    now = time.monotonic()
    cached = _cache.get(survey.pk)
    if cached and cached[1] == survey.updated_at and now - cached[0] < CACHE_SECONDS:
        return cached[2]
    rules = FollowUpRules.of(survey)
    _cache[survey.pk] = (now, survey.updated_at, rules)
    return rules


@receiver(
    [post_save, post_delete], sender=FollowUpSettings, dispatch_uid="followups.settings_cache"
)
def _forget(sender, instance, **kwargs) -> None:
    _cache.pop(instance.survey_id, None)


# A response id no row has: marks where the response's id goes among a compiled query's params.
_SLOT = -7_331_911_427


@functools.lru_cache(maxsize=512)
def _has_triggers(rules: FollowUpRules) -> bool:
    """Whether `rules` has any trigger: asked per answer, the querysets built once."""
    return bool(rules.triggers())


@functools.lru_cache(maxsize=512)
def _compiled(rules: FollowUpRules) -> tuple[str, list, int] | None:
    """The SQL of `with_triggers` for one response under `rules`, compiled once: the answer page
    runs it on every answer, and building it through the ORM cost more than the INSERT. None when
    the response id does not show once among the params (then the ORM builds it each time)."""
    query = with_triggers(Response.objects.filter(pk=_SLOT), rules).values_list("pk")[:1]
    sql, params = query.query.sql_with_params()
    params = list(params)
    if params.count(_SLOT) != 1:
        return None
    return sql, params, params.index(_SLOT)


def needs_follow_up(response: Response) -> bool:
    """Whether the response just stored calls for a follow-up: one indexed query, the same
    definition as the task's and the sweep's (`with_triggers`), prepared once per connection."""
    rules = cached_rules(response.survey)
    if not _has_triggers(rules):
        return False
    compiled = _compiled(rules)
    if compiled is None:
        return trigger_of(response.pk, rules) is not None
    sql, params, slot = compiled
    params = [*params[:slot], response.pk, *params[slot + 1 :]]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None
