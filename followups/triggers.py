"""The cheap decision made in the answer request: two indexed lookups, settings cached briefly.

The task that opens the follow-up decides again from the database, so a cached setting can at
worst skip a follow-up for CACHE_SECONDS after an admin changed the rules in another process.
"""

from __future__ import annotations

import functools
import time

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from csat_platform.prepared import prepared_cursor
from surveys.models import Answer, Question

from . import rules
from .models import FollowUpSettings

CACHE_SECONDS = 30.0
_settings_cache: dict[int, tuple[float, dict]] = {}

_DEFAULTS = {
    "enabled": True,
    "on_not_satisfied": True,
    "score_at_most": None,
    "keywords": [],
}


def _settings(survey_id: int) -> dict:
    now = time.monotonic()
    cached = _settings_cache.get(survey_id)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    row = (
        FollowUpSettings.objects.filter(survey_id=survey_id)
        .values("enabled", "on_not_satisfied", "score_at_most", "keywords")
        .first()
    )
    value = row or dict(_DEFAULTS)
    _settings_cache[survey_id] = (now, value)
    return value


@receiver(
    [post_save, post_delete], sender=FollowUpSettings, dispatch_uid="followups.settings_cache"
)
def _forget(sender, instance, **kwargs) -> None:
    _settings_cache.pop(instance.survey_id, None)


@functools.cache
def _answers_sql() -> str:
    """A response's answers with what ranks them: written out once, for it runs on every answer
    the answer page stores (through the ORM, building it cost more than the page's INSERT)."""
    quote = connection.ops.quote_name
    answer, question = Answer._meta, Question._meta

    def column(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    return (
        f"SELECT a.{column(answer, 'score')}, a.{column(answer, 'satisfied')}, "
        f"a.{column(answer, 'text')}, q.{column(question, 'primary')}, "
        f"q.{column(question, 'position')}, q.{column(question, 'id')}, "
        f"q.{column(question, 'reversed')} "
        f"FROM {quote(answer.db_table)} a INNER JOIN {quote(question.db_table)} q "
        f"ON q.{column(question, 'id')} = a.{quote(Answer.question.field.column)} "
        f"WHERE a.{quote(Answer.response.field.column)} = %s"
    )


def needs_follow_up(response) -> bool:
    """Whether the stored response calls for a follow-up under its survey's settings."""
    config = _settings(response.survey_id)
    if not config["enabled"]:
        return False
    with prepared_cursor() as cursor:
        cursor.execute(_answers_sql(), [response.pk])
        rows = cursor.fetchall()
    scored = sorted((r for r in rows if r[0] is not None), key=lambda r: (not r[3], r[4], r[5]))
    primary = (
        rules.ScoredAnswer(score=scored[0][0], satisfied=scored[0][1], reversed=scored[0][6])
        if scored
        else None
    )
    return (
        rules.trigger_reason(
            enabled=True,
            on_not_satisfied=config["on_not_satisfied"],
            score_at_most=config["score_at_most"],
            keywords=config["keywords"] or [],
            primary=primary,
            comments=[r[2] for r in rows if r[2]],
        )
        is not None
    )
