from celery import shared_task

from . import rollups


@shared_task(name="reports.refresh_rollups", ignore_result=True)
def refresh_rollups() -> int:
    """Beat, every 30 s: recompute the survey days marked stale, recent sends and touchpoints."""
    return rollups.refresh()
