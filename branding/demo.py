"""The demo's brand: a company name, a sender name, an accent colour and a drawn logo, so the
demo's answer pages and emails look like a company's (and the brand page has something to show)."""

from __future__ import annotations

import io

from django.conf import settings
from PIL import Image, ImageDraw

from . import services
from .logos import clean_logo

COMPANY = "Northwind Goods"
SENDER = "Northwind Customer Care"
ACCENT = "#0f766e"  # 5.5:1 against white text


def _logo() -> bytes:
    image = Image.new("RGBA", (96, 96), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 92, 92), radius=20, fill=ACCENT)
    draw.polygon([(26, 72), (48, 24), (70, 72)], fill="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed() -> None:
    logo = clean_logo(_logo(), max_bytes=settings.CSAT_LOGO_MAX_KB * 1024)
    services.save_brand(company_name=COMPANY, sender_name=SENDER, accent_color=ACCENT, logo=logo)
