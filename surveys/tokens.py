"""Invitation link tokens: derived from a stored random salt with the secret key, stored hashed.

A leaked database holds only salts and hashes: without SECRET_KEY no live link can be rebuilt.
The same invitation always yields the same token, so a reminder carries the same link.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator

from django.conf import settings
from django.utils.crypto import salted_hmac

_PURPOSE = "csat.invitation-token"
TOKEN_BYTES = 24  # 192 bits


def new_salt() -> str:
    return secrets.token_hex(16)


def _derive(salt: str, secret: str) -> str:
    digest = salted_hmac(_PURPOSE, salt, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode().rstrip("=")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_token(salt: str) -> str:
    return _derive(salt, settings.SECRET_KEY)


def token_for(invitation) -> str:
    """The invitation's token, also after a key rotation (SECRET_KEY_FALLBACKS)."""
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        token = _derive(invitation.salt, secret)
        if hash_token(token) == invitation.token_hash:
            return token
    raise ValueError("this invitation's token cannot be rebuilt with the current secret keys")


def looks_like_token(value: str) -> bool:
    return 20 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)


def salts_and_hashes() -> Iterator[tuple[str, str]]:
    """Fresh (salt, token_hash) pairs for bulk inserts, as many as taken: the same tokens as
    make_token, with the key derived once instead of per invitation."""
    key = hashlib.sha256((_PURPOSE + settings.SECRET_KEY).encode()).digest()
    mac = hmac.new(key, digestmod=hashlib.sha256)
    while True:
        salt = new_salt()
        h = mac.copy()
        h.update(salt.encode())
        token = base64.urlsafe_b64encode(h.digest()[:TOKEN_BYTES]).decode().rstrip("=")
        yield salt, hash_token(token)
