from celery import shared_task
from django.conf import settings

from . import services


@shared_task(acks_late=True)
def erase_expired_personal_data() -> dict:
    """The daily retention run (RESPONSE_RETENTION_MONTHS; 0 = keep everything)."""
    return services.erase_expired_personal_data(months=settings.RESPONSE_RETENTION_MONTHS)
