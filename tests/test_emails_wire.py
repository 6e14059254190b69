"""The SMTP fast path (InvitationWire) sends the same email as the plain build."""

import email
import email.policy

import pytest

from surveys.emails import InvitationWire, build_invitation_email
from surveys.models import Contact

from .factories import make_invitation, make_survey

NAMES = [
    "Ana",
    "Jörg Ünïcode-Åström",
    "<script>alert('x')</script>",
    'Tom & Jerry "Co" O\'Brien',
    "Ana " + "Maria " * 30 + "Long",  # folds the subject; names hold up to 200
    "",
    " edge spaces ",
    "line\nbreak",
    "李小龍 😀",
]


def parsed(data: bytes) -> tuple[list, list]:
    """Headers (but the date and the random boundary) and the decoded parts, as a reader sees them."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    headers = [(k, str(v)) for k, v in message.items() if k not in ("Date", "Content-Type")]
    parts = [
        (part.get_content_type(), part.get_content_charset(), part.get_content())
        for part in message.iter_parts()
    ]
    return headers, [message.get_content_type(), *parts]


@pytest.mark.parametrize("reminder", [False, True])
@pytest.mark.parametrize(
    "texts",
    [
        {},
        {
            "email_subject": {"en": "{name}, your order {reference}", "de": "{name}: {reference}"},
            "email_body": {"en": "Hi {name} & co,\nhow was {reference}?", "de": "Hallo {name}"},
        },
    ],
)
def test_fast_path_sends_the_same_message_as_the_plain_build(db, settings, reminder, texts):
    settings.SITE_URL = "https://csat.example.com"
    survey = make_survey(languages=("en", "de"), **texts)
    wire = InvitationWire()
    for index, name in enumerate(NAMES):
        for locale, reference in (("en", "A-<1>&2"), ("de", ""), ("de", "Bestellung Ü")):
            contact = Contact.objects.create(
                email=f"c{index}{locale}{len(reference)}@example.com", name=name, locale=locale
            )
            attributes = {"order_id": reference} if reference else {}
            invitation, token = make_invitation(
                survey, contact, locale=locale, attributes=attributes
            )
            plain = build_invitation_email(invitation, token, reminder=reminder)
            fast = wire.build(invitation, token, reminder=reminder)
            assert parsed(fast.data) == parsed(plain.message().as_bytes(linesep="\r\n")), name
            assert fast.recipients == plain.to
            assert fast.message_id == plain.extra_headers["Message-ID"]
            assert all(len(line) <= 998 for line in fast.data.split(b"\r\n"))
            assert b"\n" not in fast.data.replace(b"\r\n", b"")
    assert any(shape is not None for shape in wire.shapes.values())  # the fast path was taken
