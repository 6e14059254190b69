"""The brand: survey admins set company name, sender name, accent colour and logo on one page; every
input is checked; the customer's pages and the emails show it without a query more per request."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from branding.models import Brand
from branding.selectors import CACHE_SECONDS, current_brand, forget_brand

from .factories import UserFactory, admin_user, invite, make_survey, manager_user

pytestmark = pytest.mark.django_db

URL = "/settings/brand/"
GOOD = {"company_name": "Acme Tools", "sender_name": "", "accent_color": "#0b5d3b"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def image_bytes(fmt: str = "PNG", size=(400, 200), color=(200, 30, 30, 255), **save) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP", "GIF") else "RGB"
    Image.new(mode, size, color[: len(mode)]).save(out, format=fmt, **save)
    return out.getvalue()


def upload(data: bytes, name: str = "logo.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post(client: Client, logo: bytes | None = None, name: str = "logo.png", **fields):
    data = {**GOOD, **fields}
    if logo is not None:
        data["logo"] = upload(logo, name)
    return client.post(URL, data)


def png_with_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + (width + 7) // 8) * 4)  # a few rows; the rest never read
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


# --- the page: who may, and what it accepts ------------------------------------------------------


def test_only_survey_admins_reach_the_brand_page():
    assert Client().get(URL).status_code == 302
    for user in (manager_user(), UserFactory()):
        client = logged_in(user)
        assert client.get(URL).status_code == 403
        assert post(client, image_bytes()).status_code == 403
        assert client.post(f"{URL}logo/remove/").status_code == 403
    assert not Brand.objects.exists()
    page = logged_in(admin_user()).get(URL)
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    assert 'href="/settings/brand/" aria-current="page"' in page.content.decode()


def test_an_admin_saves_the_brand_and_the_logo_is_stored_as_a_small_clean_png():
    client = logged_in(admin_user())
    # A JPEG with metadata and a trailing script: what is stored is a fresh PNG of the pixels.
    jpeg = image_bytes("JPEG", size=(1200, 600), comment=b"<script>alert(1)</script>")
    reply = post(client, jpeg + b"<script>alert(2)</script>", name="logo.jpg", sender_name="Acme")
    assert reply.status_code == 302 and reply["Location"] == URL
    brand = Brand.objects.get()
    assert (brand.company_name, brand.sender_name, brand.accent_color) == (
        "Acme Tools",
        "Acme",
        "#0b5d3b",
    )
    png = bytes(brand.logo_png)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"script" not in png
    with Image.open(io.BytesIO(png)) as stored:
        assert (
            stored.format == "PNG" and stored.size == (320, 160) and not stored.info.get("comment")
        )
    page = client.get(URL).content.decode()
    assert f"/brand/logo-{brand.logo_hash}.png" in page and "The brand is saved." in page
    assert "&quot;Acme&quot; &lt;surveys@localhost&gt;" in page  # the From it makes

    # Saving again without a file keeps the logo; removing it drops it.
    assert post(client, company_name="Acme").status_code == 302
    assert Brand.objects.get().logo_hash == brand.logo_hash
    assert client.post(f"{URL}logo/remove/").status_code == 302
    assert Brand.objects.get().logo_hash == "" and Brand.objects.get().logo_png is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"accent_color": "red"}, "Give the colour as #rrggbb"),
        ({"accent_color": "#12345"}, "Give the colour as #rrggbb"),
        ({"accent_color": "#ffff00"}, "White text on #ffff00 has a contrast of 1.07:1"),
        ({"accent_color": "#777777"}, "has a contrast of 4.47:1"),  # just short of 4.5
        ({"sender_name": "Acme\r\nBcc: x@example.com"}, "Line breaks and control characters"),
        ({"company_name": "x" * 101}, "at most 100 characters"),
    ],
)
def test_wrong_texts_and_colours_are_refused_and_nothing_is_saved(fields, message):
    reply = post(logged_in(admin_user()), image_bytes(), **fields)
    assert reply.status_code == 400
    assert message in reply.content.decode()
    assert not Brand.objects.exists()  # not even the valid logo of the same form


def test_a_colour_with_just_enough_contrast_is_taken():
    # #767676 is the lightest grey with 4.54:1 on white.
    assert post(logged_in(admin_user()), accent_color="#767676").status_code == 302


@pytest.mark.parametrize(
    ("logo", "name", "message"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.svg",
            "not a PNG, JPEG, WebP or GIF image (SVG is not accepted)",
        ),
        (b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20, "logo.png", "or it is damaged"),
        (image_bytes()[:120], "cut.png", "or it is damaged"),  # a truncated PNG
        (image_bytes("BMP"), "logo.bmp", "not a PNG, JPEG, WebP or GIF image"),
        (png_with_header_only(50000, 50000), "bomb.png", "too many pixels; at most 4000"),
        (png_with_header_only(12000, 1200), "wide.png", "12000 × 1200 pixels; at most 4000"),
        (png_with_header_only(4000, 4001), "tall.png", "at most 4000 on a side"),
    ],
)
def test_a_logo_that_is_not_a_safe_small_image_is_refused(logo, name, message):
    reply = post(logged_in(admin_user()), logo, name=name)
    assert reply.status_code == 400
    assert message in reply.content.decode()
    assert not Brand.objects.exists()


def test_a_logo_over_the_size_limit_is_refused(settings):
    settings.CSAT_LOGO_MAX_KB = 2
    noisy = Image.effect_noise((200, 200), 90).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    assert len(out.getvalue()) > 2048
    reply = post(logged_in(admin_user()), out.getvalue())
    assert reply.status_code == 400
    assert "; at most 2 KB is accepted." in reply.content.decode()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_each_accepted_format_becomes_a_png(fmt):
    reply = post(logged_in(admin_user()), image_bytes(fmt, size=(60, 30)), name=f"l.{fmt.lower()}")
    assert reply.status_code == 302
    with Image.open(io.BytesIO(bytes(Brand.objects.get().logo_png))) as stored:
        assert stored.format == "PNG" and stored.size == (60, 30)  # small logos keep their size


def test_a_logos_transparent_margins_are_cut():
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((10, 20, 30, 255), (50, 40, 150, 140))  # a 100 × 100 square inside
    out = io.BytesIO()
    image.save(out, format="PNG")
    assert post(logged_in(admin_user()), out.getvalue()).status_code == 302
    with Image.open(io.BytesIO(bytes(Brand.objects.get().logo_png))) as stored:
        assert stored.size == (100, 100)


def test_errors_are_in_the_readers_language():
    client = logged_in(admin_user())
    reply = client.post(URL, {**GOOD, "accent_color": "#ffff00"}, HTTP_ACCEPT_LANGUAGE="de")
    assert reply.status_code == 400
    assert "Kontrast von 1,07:1" in reply.content.decode()


# --- the logo and the theme stylesheet: public, content-addressed, cached for good ----------------


def test_the_logo_is_served_by_its_hash_with_long_caching_and_an_old_hash_is_gone():
    client = logged_in(admin_user())
    post(client, image_bytes())
    first = Brand.objects.get().logo_hash
    reply = Client().get(f"/brand/logo-{first}.png")
    assert reply.status_code == 200 and reply["Content-Type"] == "image/png"
    assert reply["Cache-Control"] == "public, max-age=31536000, immutable"
    assert reply["X-Content-Type-Options"] == "nosniff"
    assert reply.content == bytes(Brand.objects.get().logo_png)
    assert Client().head(f"/brand/logo-{first}.png").status_code == 200
    post(client, image_bytes(color=(0, 0, 200, 255)))
    second = Brand.objects.get().logo_hash
    assert second != first
    assert Client().get(f"/brand/logo-{first}.png").status_code == 404
    assert Client().get(f"/brand/logo-{second}.png").status_code == 200
    assert Client().get("/brand/logo-../../etc.png").status_code == 404


def test_the_theme_stylesheet_is_computed_from_the_colour_in_its_address():
    reply = Client().get("/brand/theme-0b5d3b.css")
    assert reply.status_code == 200 and reply["Content-Type"] == "text/css; charset=utf-8"
    assert reply["Cache-Control"] == "public, max-age=31536000, immutable"
    css = reply.content.decode()
    assert "--brand:#0b5d3b" in css and "--brand-ink:#fff" in css
    assert Client().get("/brand/theme-ffff00.css").status_code == 404  # white text unreadable
    assert Client().get("/brand/theme-zzzzzz.css").status_code == 404


def test_text_in_the_accent_stays_readable_on_the_tinted_backgrounds():
    from branding.colors import MIN_CONTRAST, contrast, theme_css

    css = theme_css("#767676")
    found = dict(re.findall(r"(--[\w-]+):(#[0-9a-f]{6})", css))
    for background in ("#ffffff", "#f4f5f9", found["--brand-soft"], found["--brand-soft-2"]):
        assert contrast(found["--brand-text"], background) >= MIN_CONTRAST


# --- the customer's pages ---------------------------------------------------------------------


def branded(logo: bool = True) -> Brand:
    client = logged_in(admin_user(username="brander"))
    post(client, image_bytes() if logo else None)
    forget_brand()
    return Brand.objects.get()


def test_the_answer_pages_show_logo_name_and_colours():
    survey = make_survey()
    brand = branded()
    _, token = invite(survey=survey, email="ana@example.com")
    url = f"/s/{token}/"
    page = Client().get(url).content.decode()
    assert f'<img src="/brand/logo-{brand.logo_hash}.png" alt=""' in page
    assert '<span class="brand-name">Acme Tools</span>' in page
    assert '<link rel="stylesheet" href="/brand/theme-0b5d3b.css">' in page
    assert Client().post(url, {"satisfaction": "4"}).status_code == 302
    for address in (f"/s/{token}/thanks/", url, f"/u/{token}/"):
        shown = Client().get(address).content.decode()
        assert "Acme Tools" in shown and "/brand/theme-0b5d3b.css" in shown, address


def test_without_a_brand_the_pages_are_as_before():
    _, token = invite(survey=make_survey(), email="ana@example.com")
    page = Client().get(f"/s/{token}/").content.decode()
    assert "/brand/" not in page and 'class="brand' not in page


def answer_page_queries(survey, email: str) -> list[str]:
    _, token = invite(survey=survey, email=email)
    Client().get(f"/s/{token}/")  # the first request of a process may read the brand
    _, token = invite(survey=survey, email=f"second-{email}")
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(f"/s/{token}/").status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_brand_costs_the_answer_page_no_query(settings):
    survey = make_survey()
    plain = answer_page_queries(survey, "a@example.com")
    branded()
    with_brand = answer_page_queries(survey, "b@example.com")
    assert len(with_brand) == len(plain)
    assert not any("branding_brand" in sql for sql in with_brand)


def test_the_brand_is_read_once_per_period_per_process(monkeypatch):
    branded()
    import branding.selectors as selectors

    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    forget_brand()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            current_brand()
        clock[0] += CACHE_SECONDS - 0.1
        current_brand()
    assert len(queries) == 1
    clock[0] += 0.2
    with CaptureQueriesContext(connection) as queries:
        assert current_brand().company_name == "Acme Tools"
    assert len(queries) == 1
