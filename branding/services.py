"""Writing the brand: one row, changed in a transaction; every process re-reads it soon after."""

from __future__ import annotations

from django.db import transaction

from .logos import Logo
from .models import Brand
from .selectors import forget_brand


def _row() -> Brand:
    brand, _ = Brand.objects.select_for_update().get_or_create(pk=1)
    return brand


def _forget() -> None:
    # Now, for this request's own reads, and after the commit, for a read made in between.
    forget_brand()
    transaction.on_commit(forget_brand)


@transaction.atomic
def save_brand(
    *, company_name: str, sender_name: str, accent_color: str, logo: Logo | None = None
) -> Brand:
    """Save the brand's texts and colour, and the logo when a new one is given."""
    brand = _row()
    brand.company_name = company_name
    brand.sender_name = sender_name
    brand.accent_color = accent_color.lower()
    if logo is not None:
        brand.logo_png = logo.png
        brand.logo_hash = logo.digest
        brand.logo_width, brand.logo_height = logo.width, logo.height
    brand.save()
    _forget()
    return brand


@transaction.atomic
def remove_logo() -> Brand:
    brand = _row()
    brand.logo_png = None
    brand.logo_hash = ""
    brand.logo_width = brand.logo_height = 0
    brand.save()
    _forget()
    return brand
