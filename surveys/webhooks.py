"""The email providers' tracking webhooks: django-anymail's views at /anymail/<esp>/tracking/,
behind a guard that makes them safe by default.

- Without ANYMAIL_WEBHOOK_SECRET they answer 403 and do nothing (anymail alone would accept
  anyone's events with only a warning, and let a stranger unsubscribe every customer).
- Missing or wrong basic auth is a 401 with a challenge; a bad provider signature a 403.
- A payload the provider's parser cannot read is a 400, a provider setting missing on our side a
  503 (the provider retries once it is fixed), never a 500.
"""

from __future__ import annotations

import logging

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.utils import get_request_basic_auth
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

log = logging.getLogger(__name__)


def _secrets() -> list[str]:
    configured = getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET") or []
    return [configured] if isinstance(configured, str) else list(configured)


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def guarded(view):
    """`view` (an anymail tracking view) behind the secret, with clear 4xx answers."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        secrets = _secrets()
        if not secrets:
            return _text(403, "Webhooks are off: set ANYMAIL_WEBHOOK_SECRET to turn them on.")
        if request.method == "POST":
            given = get_request_basic_auth(request) or ""
            if not any(constant_time_compare(given, secret) for secret in secrets):
                response = _text(401, "Give the webhook's user and password (HTTP basic auth).")
                response["WWW-Authenticate"] = 'Basic realm="CSAT webhooks", charset="UTF-8"'
                return response
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as error:
            log.warning("webhook %s refused: %s", request.path, error)
            return _text(403, str(error))
        except ImproperlyConfigured as error:  # anymail's configuration errors included
            log.error("webhook %s is not configured: %s", request.path, error)
            return _text(503, "This webhook is not configured on our side yet.")
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            log.warning("webhook %s: unreadable payload: %r", request.path, error)
            return _text(400, "The payload could not be read as this provider's event.")

    return wrapped


urlpatterns = [
    URLPattern(p.pattern, guarded(p.callback), p.default_args, p.name)
    for p in anymail_urls.urlpatterns
    if isinstance(p, URLPattern) and (p.name or "").endswith("_tracking_webhook")
]
app_name = "anymail"
