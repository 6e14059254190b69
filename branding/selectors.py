"""The brand as the customer's pages and the emails read it: from a per-process copy that is at
most CACHE_SECONDS old, so the answer page does not pay a query for it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import parseaddr
from functools import cached_property

from django.conf import settings
from django.urls import reverse

from .colors import mix
from .models import DEFAULT_ACCENT, Brand

# Another process's save shows after at most this long; the saving process sees it at once.
CACHE_SECONDS = 10.0
LOGO_SHOWN_HEIGHT = 48  # pixels, on the pages (public.css .brand img) and in the emails

_lock = threading.Lock()
_cached: tuple[float, BrandView] | None = None


# Not frozen: its cached_property values are computed once per copy, not once per page.
@dataclass(eq=False)
class BrandView:
    company_name: str = ""
    sender_name: str = ""
    accent_color: str = DEFAULT_ACCENT
    logo_hash: str = ""
    logo_width: int = 0
    logo_height: int = 0

    @cached_property
    def logo_url(self) -> str:
        """The logo's address on this site (its content hash in the name: cached for good)."""
        return reverse("brand-logo", args=[self.logo_hash]) if self.logo_hash else ""

    @cached_property
    def absolute_logo_url(self) -> str:
        return f"{settings.SITE_URL}{self.logo_url}" if self.logo_hash else ""

    @cached_property
    def theme_url(self) -> str:
        """The stylesheet that paints the customer's pages in the accent colour ('' for ours)."""
        if self.accent_color == DEFAULT_ACCENT:
            return ""
        return reverse("brand-theme", args=[self.accent_color[1:]])

    @cached_property
    def logo_shown_width(self) -> int:
        """The logo's width as shown (48 px high at most), for mail clients that ignore CSS."""
        if not self.logo_height:
            return 0
        return max(1, round(self.logo_width * self.logo_shown_height / self.logo_height))

    @cached_property
    def logo_shown_height(self) -> int:
        return min(LOGO_SHOWN_HEIGHT, self.logo_height)

    @cached_property
    def accent_line(self) -> str:
        """A light tint of the accent: the emails' rating buttons' border."""
        return mix(self.accent_color, "#ffffff", 0.3)

    @cached_property
    def shows_header(self) -> bool:
        return bool(self.company_name or self.logo_hash)


def _load() -> BrandView:
    row = (
        Brand.objects.filter(pk=1)
        .values(
            "company_name",
            "sender_name",
            "accent_color",
            "logo_hash",
            "logo_width",
            "logo_height",
        )
        .first()
    )
    return BrandView(**row) if row else BrandView()


def current_brand() -> BrandView:
    """The brand, read from the database at most once per CACHE_SECONDS in this process."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    with _lock:
        if _cached is None or now - _cached[0] >= CACHE_SECONDS:
            _cached = (time.monotonic(), _load())
        return _cached[1]


def forget_brand() -> None:
    """Drop this process's copy (after a save, and between tests)."""
    global _cached
    _cached = None


def sender_address(brand: BrandView | None = None) -> str:
    """The From of every survey email: DEFAULT_FROM_EMAIL's address with the brand's sender
    name (else its company name) as display name; DEFAULT_FROM_EMAIL as is without either."""
    brand = brand or current_brand()
    name = brand.sender_name or brand.company_name
    if not name:
        return settings.DEFAULT_FROM_EMAIL
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


def logo_png(digest: str) -> bytes | None:
    """The stored logo's bytes if `digest` is the current logo's hash."""
    row = Brand.objects.filter(pk=1, logo_hash=digest).values_list("logo_png", flat=True).first()
    return bytes(row) if row is not None else None
