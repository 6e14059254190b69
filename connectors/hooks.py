"""The address providers post to: /hooks/<connector's public id>/.

CSRF-exempt (the provider signs instead), POST only, with a body size limit. An unknown address
is a 404; everything else is connectors.services.receive's answer."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import selectors, services
from .providers.shop import WooCommerce


@csrf_exempt
@require_POST
def receive(request: HttpRequest, public_id: str) -> HttpResponse:
    connector = selectors.connector_for_hook(public_id)
    if connector is None:
        raise Http404
    limit = settings.CONNECTORS_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit or len(request.body) > limit:
        return JsonResponse({"detail": f"The body is larger than {limit} bytes."}, status=413)
    if connector.provider == "woocommerce" and WooCommerce.is_ping(request.headers, request.body):
        # WooCommerce tests a new webhook's address with an unsigned form post: say yes.
        return JsonResponse({"outcome": "ping"})
    answer = services.receive(connector=connector, headers=request.headers, body=request.body)
    return JsonResponse(answer.body, status=answer.status)
