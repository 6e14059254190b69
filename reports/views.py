from django.db.models import Count, Q
from django.shortcuts import render

from access.views import reports_viewer_required
from surveys.models import Survey


@reports_viewer_required
def dashboard(request):
    """Overview of surveys with their response counts (the full dashboard builds on this)."""
    surveys = Survey.objects.exclude(status=Survey.Status.DRAFT).annotate(
        n=Count("responses", filter=Q(responses__is_test=False))
    )
    return render(request, "reports/overview.html", {"surveys": surveys})
