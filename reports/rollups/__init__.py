"""Writing the rollups: recompute one survey day, rebuild from scratch, fold in what is new.

PostgreSQL is the rollup engine (`enabled()`); on any other database (the SQLite demo) the
reports read the raw rows and marking, refreshing and rebuilding do nothing. Every recompute
deletes the rows of a (survey, day range) and inserts them again from the raw tables in one
transaction, under a per-survey advisory lock, so running it twice, or concurrently with the
beat task, gives the same rows. Modules: `cubes` (answer and invitation day rows), `months`
(closed months summed), `comments` (the comments page's rows), `coverage` (distinct contacts),
`runs` (rebuild, mark, refresh), `common` (what they share). Their vocabulary (dimensions, key
lengths, scopes) is reports.vocabulary, which the readers share.
"""

from .common import enabled, month_chunks
from .coverage import rebuild_scope, recompute_contact_day, regrid
from .cubes import recompute_answers, recompute_invitations
from .months import current_month, recompute_month
from .runs import mark_dirty, rebuild, recompute_day, refresh, survey_days

__all__ = [
    "current_month",
    "enabled",
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
    "survey_days",
]
