"""Contact details typed into comments are masked; ordinary numbers and dates are not."""

import pytest

from reports.redact import comment_for_display, redact_contact_details

EMAILS = [
    "john@example.com",
    "John.Doe+shop@mail.example.co.uk",
    "a_b-c@sub-domain.example.org",
    "JANE@EXAMPLE.DE",
]
PHONES = [
    "+49 30 1234567",
    "+1 (555) 123-4567",
    "(555) 123-4567",
    "555-123-4567",
    "555.123.4567",
    "0612345678",
    "+31 6 12345678",
    "030 123 45 67",
    "+48 123 456 789",
    "+45 12 34 56 78",
    "0049/30/1234567",
    "+441632960961",
]
KEPT = [
    "order 12345 arrived late",
    "I paid 129.99 for it",
    "delivered on 2024-01-15 instead of 12.01.2024",
    "at 10:30 the parcel came",
    "order 1234567 was wrong",
    "rated 5/5",
    "size 42-44 was fine",
]


@pytest.mark.parametrize("email", EMAILS)
def test_email_addresses_are_masked(email):
    text = f"Please write to {email}, thanks."
    masked = redact_contact_details(text)
    assert email not in masked
    assert masked == "Please write to [email hidden], thanks."


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_masked(phone):
    masked = redact_contact_details(f"Call me on {phone} please")
    assert masked == "Call me on [phone hidden] please", masked


@pytest.mark.parametrize("text", KEPT)
def test_order_numbers_prices_and_dates_stay(text):
    assert redact_contact_details(text) == text


def test_several_details_in_one_comment_are_all_masked():
    text = "Mail anna@shop.example or ring +49 170 1234567 / 030-123456789."
    assert redact_contact_details(text) == (
        "Mail [email hidden] or ring [phone hidden] / [phone hidden]."
    )


def test_empty_text_stays_empty():
    assert redact_contact_details("") == ""


def test_the_setting_turns_masking_off(settings):
    settings.HIDE_CONTACT_DETAILS_IN_COMMENTS = False
    assert comment_for_display("mail me: a@b.example") == "mail me: a@b.example"
    settings.HIDE_CONTACT_DETAILS_IN_COMMENTS = True
    assert comment_for_display("mail me: a@b.example") == "mail me: [email hidden]"
