"""The site's brand: one row (pk 1) read by the customer's pages and the emails."""

from django.db import models
from django.db.models import Q

DEFAULT_ACCENT = "#3b3fb6"  # the product's own colour (static/css/public.css --brand)


class Brand(models.Model):
    """Company name, sender name, accent colour and logo of the whole site (a singleton).

    The logo is kept as re-encoded PNG bytes in the database, so every web process (and a
    production setup without media serving) can hand it out from one row.
    """

    company_name = models.CharField(max_length=100, blank=True)
    sender_name = models.CharField(max_length=100, blank=True, help_text="Empty: the company name.")
    accent_color = models.CharField(max_length=7, default=DEFAULT_ACCENT)
    logo_png = models.BinaryField(null=True, blank=True)
    logo_hash = models.CharField(max_length=16, blank=True)
    logo_width = models.PositiveIntegerField(default=0)
    logo_height = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="brand_is_a_singleton")]

    def __str__(self) -> str:
        return self.company_name or "Brand"
