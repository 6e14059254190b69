"""Everything that writes API keys: made with a secret shown once, revoked, never edited."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ApiKey


class ApiKeyError(Exception):
    """A key that cannot be made as asked (409 on the page, CommandError in the shell)."""

    status = 409


@transaction.atomic
def create_api_key(*, name: str, scope: str = ApiKey.Scope.FULL, created_by=None):
    """A new key and its secret (only the hash is stored). Raises ApiKeyError on a taken name."""
    name = name.strip()
    if ApiKey.objects.filter(name=name).exists():
        raise ApiKeyError(_("An API key named “%(name)s” exists already.") % {"name": name})
    try:
        with transaction.atomic():
            return ApiKey.generate(name=name, scope=scope, created_by=created_by)
    except IntegrityError:  # a concurrent request took the name
        raise ApiKeyError(
            _("An API key named “%(name)s” exists already.") % {"name": name}
        ) from None


@transaction.atomic
def revoke_api_key(*, key_id: int) -> ApiKey:
    """Revoke the key: every request with it is refused from now on. Revoking twice is a no-op."""
    key = ApiKey.objects.select_for_update().get(pk=key_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key
