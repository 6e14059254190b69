"""The addresses of a connector: /hooks/<public id>/, where providers post, and
/rate/<public id>/, the survey link a helpdesk's own email carries (connectors.links).

The hook is CSRF-exempt (the provider signs instead), POST only, with a body size limit. An
unknown address is a 404; everything else is connectors.services.receive's answer."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import links, selectors, services
from .models import Connector
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


@require_GET
def rate(request: HttpRequest, public_id: str) -> HttpResponse:
    """A helpdesk's survey link: 303 to the invitation's answer page, or the usual 404."""
    connector = get_object_or_404(Connector.objects.select_related("survey"), public_id=public_id)
    try:
        token = links.open_link(connector=connector, query=request.GET)
    except links.LinkRefused:
        raise Http404 from None
    target = f"/s/{token}/"
    score = request.GET.get("score", "")
    if score.lstrip("-").isdigit() and len(score) <= 4:
        target += "?" + urlencode({"score": score})
    response = HttpResponseRedirect(target, status=303)
    # The address names the customer: kept out of caches and of the next page's Referer.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
