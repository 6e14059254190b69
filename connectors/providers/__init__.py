"""The providers a connector can stand for, by name: each verifies its own signature as its
documentation says and reads its own payload into one touchpoint event (or a reason to ignore
it). Nothing here writes: connectors.services stores what came of a delivery.
"""

from __future__ import annotations

from .base import Malformed, Provider, Received, Refused
from .generic import Generic
from .helpdesk import Freshdesk, Zammad, Zendesk
from .shop import Shopify, Stripe, WooCommerce

PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (Shopify(), WooCommerce(), Stripe(), Zendesk(), Zammad(), Freshdesk(), Generic())
}

__all__ = ["PROVIDERS", "Malformed", "Provider", "Received", "Refused"]
