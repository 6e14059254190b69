"""The Celery app. The database holds what is due; the broker only carries "look at row N"."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csat_platform.settings")

app = Celery("csat_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
