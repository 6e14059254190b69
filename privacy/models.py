from django.conf import settings
from django.db import models
from django.utils import timezone


class ErasureLog(models.Model):
    """That an erasure happened: who ran it, when, and how many rows it changed.

    Never what or whom: the identifiers are kept only as ErasedIdentifier hashes.
    """

    class Kind(models.TextChoices):
        REQUEST = "request", "Erasure request"
        RETENTION = "retention", "Retention period"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    performed_at = models.DateTimeField(default=timezone.now)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "user", "api-key:<name>", "command", "retention task": the channel it came through.
    via = models.CharField(max_length=120)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.performed_at:%Y-%m-%d %H:%M} via {self.via}"


class ErasedIdentifier(models.Model):
    """An HMAC (keyed with SECRET_KEY) of an email or external id whose data was erased.

    Lets a repeated request be answered "already erased" without storing whom: the hash cannot
    be reversed, only recomputed by someone who already knows the identifier.
    """

    log = models.ForeignKey(ErasureLog, on_delete=models.CASCADE, related_name="identifiers")
    subject_hash = models.CharField(max_length=64, db_index=True)  # serves "already erased?"

    def __str__(self) -> str:
        return self.subject_hash[:12]
