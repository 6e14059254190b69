"""A bare Django view doing one SELECT and one INSERT, on the same stack as the answer page."""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare(request, token: str):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM surveys_invitation WHERE token_hash = %s", [token])
        row = cursor.fetchone()
        cursor.execute(
            "INSERT INTO bench_baseline_hit (invitation_id, score) VALUES (%s, %s)",
            [row[0] if row else None, request.POST.get("satisfaction")],
        )
    return HttpResponse("ok")


urlpatterns = [path("b/<str:token>/", bare)]
