import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_PREFIX = "csat_"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    """A key for an integrating system. Only its hash is stored; the key is shown once."""

    class Scope(models.TextChoices):
        FULL = "full", _("Full access")
        REPORTS = "reports", _("Reports only (read-only)")

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)  # serves the lookup on every request
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.FULL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def read_only(self) -> bool:
        return self.scope == self.Scope.REPORTS

    @classmethod
    def generate(
        cls, *, name: str, scope: str = Scope.FULL, created_by=None
    ) -> tuple["ApiKey", str]:
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            name=name,
            prefix=raw[:12],
            key_hash=hash_key(raw),
            scope=scope,
            created_by=created_by,
        )
        return key, raw
