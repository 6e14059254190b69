"""The mail half of a batch: one connection, messages built once, and over SMTP the envelope,
DATA and the message without its end sent apart from the end itself."""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from .. import tokens
from ..emails import InvitationWire, WireEmail, build_invitation_email
from ..models import Invitation
from .claims import REMINDER


class _Transport:
    """The mail half of a batch (see batch._Batch): needs kind, cache, wire, mail, upcoming,
    prebuilt, unfinished, helper."""

    def backend(self):
        if self.mail is None:
            self.mail = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
        return self.mail

    def connection(self):
        # open() is a no-op while open: the batch reuses one connection.
        if self.backend().open() and isinstance(self.mail, SmtpBackend):
            # The end of a message is a write of its own: it must not wait for the server to
            # acknowledge the rest (Nagle's algorithm), as the server answers only after it.
            with contextlib.suppress(OSError):
                self.mail.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.mail

    def build(self, invitation: Invitation) -> WireEmail | EmailMultiAlternatives:
        """The message as bytes for Django's SMTP backend; as an EmailMessage for any other, so
        that an ESP backend (django-anymail) still reads its metadata."""
        token = tokens.token_for(invitation)
        reminder = self.kind == REMINDER
        if type(self.backend()) is SmtpBackend:
            self.wire = self.wire or InvitationWire(self.cache)
            return self.wire.build(invitation, token, reminder=reminder)
        return build_invitation_email(invitation, token, reminder=reminder, cache=self.cache)

    def message_for(self, invitation: Invitation) -> WireEmail | EmailMultiAlternatives:
        if self.prebuilt is not None and self.prebuilt[0] == invitation.pk:
            message, self.prebuilt = self.prebuilt[1], None
            return message
        return self.build(invitation)

    def prebuild(self) -> None:
        """Build the next row's message while the mail server takes this one in."""
        if self.upcoming is None:
            return
        try:
            self.prebuilt = (self.upcoming.pk, self.build(self.upcoming))
        except Exception:  # noqa: BLE001 - send_one builds it again and records why it failed
            self.prebuilt = None

    def deliver(self, message: EmailMultiAlternatives) -> str:
        """Hand one message to the mail server; returns its Message-ID (or the ESP's id)."""
        self.connection().send_messages([message])
        status = getattr(message, "anymail_status", None)
        return str(getattr(status, "message_id", None) or message.extra_headers["Message-ID"])

    def envelope(self, message: WireEmail) -> None:
        """MAIL FROM and RCPT TO as smtplib's sendmail sends them: the server has no message yet."""
        smtp = self.connection().connection
        smtp.ehlo_or_helo_if_needed()
        options = [f"size={len(message.data)}"] if smtp.has_extn("size") else []
        code, reply = smtp.mail(message.sender, options)
        if code != 250:
            _abort(smtp, code)
            raise smtplib.SMTPSenderRefused(code, reply, message.sender)
        refused = {}
        for recipient in message.recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
            if code == 421:
                smtp.close()
                raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(message.recipients):
            _abort(smtp, 0)
            raise smtplib.SMTPRecipientsRefused(refused)

    def open_data(self, message: WireEmail, accepted: threading.Event) -> None:
        """The envelope, DATA and the message without its end ("\\r\\n.\\r\\n"): until that end
        the server holds an unfinished transaction it must discard, nothing it can deliver.
        `accepted` is set once the envelope is accepted (`self.envelope_accepted`) or refused."""
        try:
            self.envelope(message)
            self.envelope_accepted = True
        finally:
            accepted.set()
        smtp = self.mail.connection
        code, reply = smtp.docmd("data")
        if code != 354:
            _abort(smtp, code)
            raise smtplib.SMTPDataError(code, reply)
        self.unfinished = True
        smtp.send(_dot_stuffed(message.data))

    def end_data(self, meanwhile: Callable[[], None]) -> None:
        """Write the end of the message, run `meanwhile` while the server takes the message in,
        then read the server's answer."""
        smtp = self.mail.connection
        self.unfinished = False
        smtp.send(b".\r\n")
        meanwhile()
        code, reply = smtp.getreply()
        if code != 250:
            _abort(smtp, code)
            raise smtplib.SMTPDataError(code, reply)

    def drop_connection(self) -> None:
        """Close the connection without QUIT: it is broken, or inside DATA, where QUIT would be a
        line of the message (a server discards a message left without its end). The next message
        opens a new one."""
        self.unfinished = False
        if self.mail is not None:
            smtp = getattr(self.mail, "connection", None)
            if isinstance(smtp, smtplib.SMTP):
                with contextlib.suppress(Exception):
                    smtp.close()
                self.mail.connection = None
            with contextlib.suppress(Exception):
                self.mail.close()
            self.mail = None

    def close(self) -> None:
        if self.helper is not None:
            self.helper.shutdown()
        if self.unfinished:
            self.drop_connection()
        elif self.mail is not None:
            with contextlib.suppress(Exception):
                self.mail.close()  # QUIT
            self.mail = None


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it before its end, as smtplib's data() writes it: a line's
    leading dot doubled, the last line ended."""
    data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _abort(smtp: smtplib.SMTP, code: int) -> None:
    """End a refused SMTP transaction as smtplib does: 421 closes, anything else resets."""
    if code == 421:
        smtp.close()
    else:
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            smtp.rset()
