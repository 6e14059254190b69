"""Survey emails: the invitation as a template triplet in the customer's language
(`invitation`), and the same messages as SMTP-ready bytes for a batch (`wire`)."""

from .invitation import build_invitation_email, message_id_for
from .wire import InvitationWire, WireEmail

__all__ = ["InvitationWire", "WireEmail", "build_invitation_email", "message_id_for"]
