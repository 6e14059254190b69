"""The brand settings page (survey admins), and the logo and theme stylesheet the customer's
pages and the emails load (public, content-addressed, cached for good)."""

from __future__ import annotations

from email.utils import parseaddr

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from access.views import survey_admin_required
from csat_platform.boundary import shows_rejected_fields

from . import services
from .colors import HEX, contrast_with_white, shown_ratio, theme_css, white_text_readable
from .logos import LogoError, check_size, clean_logo
from .models import DEFAULT_ACCENT
from .selectors import current_brand, forget_brand, logo_png, sender_address

IMMUTABLE = "public, max-age=31536000, immutable"


def _printable(value: str) -> None:
    if not value.isprintable():
        raise forms.ValidationError(_("Line breaks and control characters are not allowed here."))


class BrandForm(forms.Form):
    company_name = forms.CharField(
        label=gettext_lazy("Company name"), max_length=100, required=False, validators=[_printable]
    )
    sender_name = forms.CharField(
        label=gettext_lazy("Sender name"), max_length=100, required=False, validators=[_printable]
    )
    accent_color = forms.CharField(label=gettext_lazy("Accent colour"), max_length=7)
    logo = forms.FileField(label=gettext_lazy("Logo"), required=False)

    def clean_accent_color(self) -> str:
        color = self.cleaned_data["accent_color"].strip().lower()
        if not HEX.fullmatch(color):
            raise forms.ValidationError(_("Give the colour as #rrggbb, e.g. #3b3fb6."))
        if not white_text_readable(color):
            ratio = contrast_with_white(color)
            raise forms.ValidationError(
                _(
                    "White text on %(color)s has a contrast of %(ratio)s:1; buttons need at "
                    "least 4.5:1 to stay readable. Choose a darker colour."
                )
                % {"color": color, "ratio": shown_ratio(ratio)}
            )
        return color

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        limit = settings.CSAT_LOGO_MAX_KB * 1024
        try:
            # Before it is read: a large upload stays in the temporary file Django spooled it to.
            check_size(upload.size, max_bytes=limit)
            return clean_logo(upload.read(), max_bytes=limit)
        except LogoError as error:
            raise forms.ValidationError(str(error)) from None


def _page(request: HttpRequest, form: BrandForm, *, status: int = 200) -> HttpResponse:
    brand = current_brand()
    context = {
        "form": form,
        "brand": brand,
        "section": "brand",
        "default_accent": DEFAULT_ACCENT,
        "max_kb": settings.CSAT_LOGO_MAX_KB,
        "from_address": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        "from_header": sender_address(brand),
    }
    return render(request, "branding/brand.html", context, status=status)


@shows_rejected_fields
@survey_admin_required
@require_http_methods(["GET", "POST"])
def brand_page(request: HttpRequest) -> HttpResponse:
    forget_brand()  # this page shows the saved row, not a copy up to CACHE_SECONDS old
    if request.method == "GET":
        brand = current_brand()
        initial = {
            "company_name": brand.company_name,
            "sender_name": brand.sender_name,
            "accent_color": brand.accent_color,
        }
        return _page(request, BrandForm(initial=initial))
    form = BrandForm(request.POST, request.FILES)
    for name, message in (getattr(request, "rejected_fields", None) or {}).items():
        form.add_error(name if name in form.fields else None, message)
    if form.errors or not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    services.save_brand(
        company_name=data["company_name"],
        sender_name=data["sender_name"],
        accent_color=data["accent_color"],
        logo=data["logo"],
    )
    messages.success(request, _("The brand is saved."))
    return redirect("brand")


@survey_admin_required
@require_POST
def brand_logo_remove(request: HttpRequest) -> HttpResponse:
    services.remove_logo()
    messages.success(request, _("The logo is removed."))
    return redirect("brand")


def _immutable(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = IMMUTABLE
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def brand_logo(request: HttpRequest, digest: str) -> HttpResponse:
    """The logo whose hash is in the address; an old hash is gone (404), never another image."""
    data = logo_png(digest)
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type="image/png")
    response["Content-Security-Policy"] = "default-src 'none'"
    return _immutable(response)


@require_safe
def brand_theme(request: HttpRequest, color: str) -> HttpResponse:
    """The customer's pages' colours for an accent colour: computed, so it needs no query."""
    accent = f"#{color}"
    if not white_text_readable(accent):
        raise Http404
    return _immutable(HttpResponse(theme_css(accent), content_type="text/css; charset=utf-8"))
