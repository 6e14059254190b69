"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the webhook's secret."""

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes | str) -> str:
    """The value of X-CSAT-Signature: "sha256=<hex>"."""
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def headers(secret: str, body: str, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {"X-CSAT-Timestamp": timestamp, "X-CSAT-Signature": signature(secret, timestamp, body)}


def verify(
    secret: str, timestamp: str, body: bytes, received: str, *, now: float | None = None
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (no replay)."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    if age > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), received or "")
