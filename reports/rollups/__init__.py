"""Writing the rollups: recompute one survey day, rebuild from scratch, fold in what is new.

Every recompute deletes the rows of a (survey, day range) and inserts them again from the raw
tables in one transaction, under a per-survey advisory lock on PostgreSQL, so running it twice,
or concurrently with the beat task, gives the same rows. Modules: `cubes` (answer and invitation
day rows), `months` (closed months summed), `comments` (the comments page's rows), `coverage`
(distinct contacts), `runs` (rebuild, mark, refresh), `common` (dimensions and what they share).
"""

from .common import (
    attribute_text,
    customers_scope,
    dimensions_of,
    month_chunks,
    respondents_scope,
)
from .coverage import rebuild_scope, recompute_contact_day, regrid
from .cubes import recompute_answers, recompute_invitations
from .months import current_month, recompute_month
from .runs import mark_dirty, rebuild, recompute_day, refresh, survey_days

__all__ = [
    "attribute_text",
    "current_month",
    "customers_scope",
    "dimensions_of",
    "mark_dirty",
    "month_chunks",
    "rebuild",
    "rebuild_scope",
    "recompute_answers",
    "recompute_contact_day",
    "recompute_day",
    "recompute_invitations",
    "recompute_month",
    "refresh",
    "regrid",
    "respondents_scope",
    "survey_days",
]
