"""Masking of contact details a customer typed into a comment (emails and phone numbers).

Applied to comments on every page and in every export while the setting
HIDE_CONTACT_DETAILS_IN_COMMENTS is on (the default), so a manager reading feedback does not
see personal data the customer volunteered.
"""

import re

from django.conf import settings
from django.utils.translation import gettext

# Local part and domain as people type them, including "john.doe+shop@mail.example.co.uk" and
# the obfuscated "john at example dot com" is deliberately left alone (it is not machine-usable).
EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?![\w-])",
    re.IGNORECASE,
)
# Digit groups joined by at most one separator each ("+1 (555) 123-4567"), so two numbers
# written "a / b" stay two; possessive runs keep the match linear. Checked by _is_phone.
PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d++\)?(?:[ .\-/]?\(?\d++\)?)*(?!\w)")
# Dates and times are digit runs too; they are not contact details.
DATE = re.compile(r"^\d{1,4}([./-])\d{1,2}\1\d{1,4}$")
PHONE_DIGITS = (7, 15)  # E.164 allows at most 15; shorter runs are order numbers or amounts


def _is_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        return False
    if DATE.match(candidate.strip()):
        return False
    # A plain number without any phone-like sign stays when it is short: "order 1234567".
    plain = candidate.isdigit()
    return not plain or digits >= 9


def redact_contact_details(text: str) -> str:
    """The text with email addresses and phone numbers replaced by a visible placeholder."""
    if not text:
        return text
    text = EMAIL.sub(gettext("[email hidden]"), text)

    def phone(match: re.Match) -> str:
        return gettext("[phone hidden]") if _is_phone(match.group(0)) else match.group(0)

    return PHONE_CANDIDATE.sub(phone, text)


def comment_for_display(text: str) -> str:
    """A comment as managers see it: masked while HIDE_CONTACT_DETAILS_IN_COMMENTS is on."""
    if getattr(settings, "HIDE_CONTACT_DETAILS_IN_COMMENTS", True):
        return redact_contact_details(text)
    return text
