"""Connector pages for survey admins: list and create, edit, rotate, delete, and the delivery
log. Writes go through connectors.services, as the API's do."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access.views import survey_admin_required
from surveys.models import Survey

from . import links, selectors, services
from .models import Connector
from .providers import PROVIDERS

SECRET_KEY = "connector-secret-%d"  # the session's one-time copy of a new secret
LINK_KEY = "connector-link-key-%d"  # the same for a new link key

SETUP = {
    "shopify": gettext_lazy(
        "In Shopify's admin: Settings → Notifications → Webhooks → Create webhook. Choose the "
        "event below, format JSON, and paste the address. Paste here the signing secret Shopify "
        "shows under the list of webhooks."
    ),
    "woocommerce": gettext_lazy(
        "In WordPress: WooCommerce → Settings → Advanced → Webhooks → Add webhook. Topic: Order "
        "updated; paste the address as the delivery URL and the secret below as its secret."
    ),
    "stripe": gettext_lazy(
        "In Stripe's dashboard: Developers → Webhooks → Add endpoint. Paste the address, choose "
        "the events below, and paste here the endpoint's signing secret (whsec_…)."
    ),
    "zendesk": gettext_lazy(
        "In Zendesk's Admin Center: Apps and integrations → Webhooks → Create webhook (trigger "
        "or automation, POST, JSON) with the address; paste here its signing secret. Then add a "
        "trigger: Ticket status changed to Solved → Notify webhook, with the JSON body below."
    ),
    "zammad": gettext_lazy(
        "In Zammad: Settings → Webhook → New webhook with the address and the secret below as "
        "its HMAC SHA1 signature token. Then add a trigger: State is closed → this webhook."
    ),
    "freshdesk": gettext_lazy(
        "In Freshdesk: Admin → Automations → Ticket updates. When the status is changed to "
        "Resolved, trigger a webhook: POST to the address, a custom header X-CSAT-Token with the "
        "secret below, and the JSON body below."
    ),
    "generic": gettext_lazy(
        "Post one event, as for POST /api/v1/touchpoints/, signed the Standard Webhooks way "
        "(webhook-id, webhook-timestamp, webhook-signature) with the secret below."
    ),
}


def _mapping_from_text(text: str) -> dict:
    """The settings form's mapping: one "attribute = path.in.payload" per line."""
    mapping = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, path = line.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise services.ConnectorError(_("Write each line as attribute = path."))
        mapping[name.strip()] = path.strip()
    return mapping


def _providers() -> list[dict]:
    return [
        {"name": p.name, "label": p.label, "given_secret": p.given_secret}
        for p in PROVIDERS.values()
    ]


@survey_admin_required
def connector_list(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        try:
            connector = services.create_connector(
                provider=request.POST.get("provider", ""),
                survey=request.POST.get("survey", ""),
                secret=request.POST.get("secret", "").strip() or None,
                name=request.POST.get("name", "").strip()[:100],
            )
        except services.ConnectorError as error:
            messages.error(request, str(error))
            status = 400
        else:
            request.session[SECRET_KEY % connector.pk] = connector.secret
            if links.takes_links(connector):
                request.session[LINK_KEY % connector.pk] = connector.link_key
            return redirect("connector-detail", pk=connector.pk)
    return render(
        request,
        "connectors/list.html",
        {
            "section": "connectors",
            "connectors": selectors.connectors(),
            "providers": _providers(),
            "surveys": Survey.objects.order_by("name"),
            "form": request.POST if request.method == "POST" else {},
        },
        status=status,
    )


@survey_admin_required
def connector_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connector = get_object_or_404(selectors.connectors(), pk=pk)
    provider = PROVIDERS[connector.provider]
    status = 200
    if request.method == "POST":
        try:
            services.update_connector(
                connector=connector,
                data={
                    "survey": request.POST.get("survey", ""),
                    "name": request.POST.get("name", "").strip()[:100],
                    "events": request.POST.getlist("events") if provider.events else None,
                    "mapping": _mapping_from_text(request.POST.get("mapping", "")),
                    "active": request.POST.get("active") == "on",
                    **(
                        {"channel": request.POST.get("channel", "")}
                        if links.takes_links(connector) and "channel" in request.POST
                        else {}
                    ),
                },
            )
        except services.ConnectorError as error:
            messages.error(request, str(error))
            status = 400
        else:
            messages.success(request, _("Connector saved."))
            return redirect("connector-detail", pk=pk)
    deliveries = selectors.deliveries(connector)
    takes_links = links.takes_links(connector)
    return render(
        request,
        "connectors/detail.html",
        {
            "section": "connectors",
            "connector": connector,
            "provider": provider,
            "url": selectors.hook_url(connector),
            "secret": request.session.pop(SECRET_KEY % connector.pk, None),
            "setup": SETUP[connector.provider],
            "body_template": provider.body_template(),
            "surveys": Survey.objects.order_by("name"),
            "deliveries": deliveries,
            "mapping_text": request.POST.get("mapping")
            if request.method == "POST"
            else "\n".join(f"{k} = {v}" for k, v in connector.mapping.items()),
            "last": deliveries[0] if deliveries else None,
            "takes_links": takes_links,
            "channels": Connector.Channel.choices,
            "link_mode": takes_links and connector.channel == Connector.Channel.HELPDESK,
            "link_templates": links.templates(connector) if takes_links else {},
            "placeholders": links.PLACEHOLDERS.get(connector.provider, ("", "")),
            "rating_row": links.rating_row(connector) if takes_links else "",
            "link_key": request.session.pop(LINK_KEY % connector.pk, None),
        },
        status=status,
    )


@survey_admin_required
@require_POST
def connector_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    connector = get_object_or_404(selectors.connectors(), pk=pk)
    try:
        services.rotate_secret(
            connector=connector, secret=request.POST.get("secret", "").strip() or None
        )
    except services.ConnectorError as error:
        messages.error(request, str(error))
    else:
        request.session[SECRET_KEY % connector.pk] = connector.secret
        messages.success(request, _("New secret set. The old one no longer works."))
    return redirect("connector-detail", pk=pk)


@survey_admin_required
@require_POST
def connector_rotate_link_key(request: HttpRequest, pk: int) -> HttpResponse:
    connector = get_object_or_404(selectors.connectors(), pk=pk)
    if links.takes_links(connector):
        services.rotate_link_key(connector=connector)
        request.session[LINK_KEY % connector.pk] = connector.link_key
        messages.success(request, _("New link key set. Links made with the old one are refused."))
    return redirect("connector-detail", pk=pk)


@survey_admin_required
@require_POST
def connector_delete(request: HttpRequest, pk: int) -> HttpResponse:
    connector = get_object_or_404(selectors.connectors(), pk=pk)
    services.delete_connector(connector=connector)
    messages.success(request, _("Connector deleted."))
    return redirect("connector-list")
