from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect

from access.roles import can_view_reports, is_survey_admin

from .celery import app as celery_app

# A file every page links: if the static manifest cannot name it, no page can render.
_STATIC_PROBE = "css/app.css"


@login_required
def home(request):
    """Admins start in the designer, managers on the dashboard."""
    if is_survey_admin(request.user):
        return redirect("design-list")
    if can_view_reports(request.user):
        return redirect("dashboard")
    raise PermissionDenied


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    url = settings.CELERY_BROKER_URL
    with celery_app.connection_for_write(url=url, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)


def _static() -> None:
    stored_name = getattr(staticfiles_storage, "stored_name", None)
    if stored_name is None:  # DEBUG: files are served from static/ as they are
        return
    name = stored_name(_STATIC_PROBE)  # raises without a manifest entry
    if not staticfiles_storage.exists(name):
        raise FileNotFoundError(name)


def healthz(request):
    """200 when the database, the broker and the static files are usable; else 503 naming which.

    For load balancers and orchestrators: a web process that would answer 500 on every page must
    not be counted healthy."""
    checks = {}
    for name, check in (("database", _database), ("broker", _broker), ("static", _static)):
        try:
            check()
        except Exception as error:  # any failure is the answer, not a 500
            checks[name] = f"failed: {type(error).__name__}"
        else:
            checks[name] = "ok"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
