from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect

from access.roles import can_view_reports, is_survey_admin


@login_required
def home(request):
    """Admins start in the designer, managers on the dashboard."""
    if is_survey_admin(request.user):
        return redirect("design-list")
    if can_view_reports(request.user):
        return redirect("dashboard")
    raise PermissionDenied


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
