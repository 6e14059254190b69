"""The demo's mail: every message is kept as an .eml file, readable by admins at /mailbox/."""

import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class MailboxBackend(BaseEmailBackend):
    """Writes each message to MAILBOX_DIR/<timestamp>-<uuid>.eml; never talks to a server."""

    def send_messages(self, email_messages) -> int:
        folder = Path(settings.MAILBOX_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
            tmp = folder / f".{name}.tmp"
            tmp.write_bytes(message.message().as_bytes())
            tmp.rename(folder / name)
            sent += 1
        return sent


# --- Reading the demo mailbox (survey admins only) ---------------------------------------------
import email  # noqa: E402
from email import policy  # noqa: E402

from django.http import Http404, HttpResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402

from access.views import survey_admin_required  # noqa: E402


def _messages() -> list[Path]:
    folder = Path(settings.MAILBOX_DIR or "")
    if not settings.MAILBOX_DIR or not folder.is_dir():
        return []
    return sorted(folder.glob("*.eml"), reverse=True)


def _parse(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


@survey_admin_required
def mailbox_list(request):
    if not settings.MAILBOX_DIR:
        raise Http404
    items = []
    for path in _messages()[:200]:
        msg = _parse(path)
        items.append(
            {"name": path.stem, "to": msg["To"], "subject": msg["Subject"], "date": msg["Date"]}
        )
    return render(request, "app/mailbox.html", {"items": items})


@survey_admin_required
def mailbox_message(request, name: str):
    path = Path(settings.MAILBOX_DIR or "") / f"{name}.eml"
    if not settings.MAILBOX_DIR or "/" in name or not path.is_file():
        raise Http404
    msg = _parse(path)
    if request.GET.get("part") == "html":
        body = msg.get_body(preferencelist=("html",))
        response = HttpResponse(
            body.get_content() if body else "", content_type="text/html; charset=utf-8"
        )
        # The message is shown as the customer's mail client would: no scripts, no framing out.
        response["Content-Security-Policy"] = "script-src 'none'; frame-ancestors 'self'"
        response["X-Frame-Options"] = "SAMEORIGIN"
        return response
    text = msg.get_body(preferencelist=("plain",))
    headers = [(k, v) for k, v in msg.items()]
    return render(
        request,
        "app/mailbox_message.html",
        {
            "name": name,
            "headers": headers,
            "text": text.get_content() if text else "",
            "subject": msg["Subject"],
        },
    )
