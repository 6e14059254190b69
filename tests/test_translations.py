"""The five shipped languages are complete: every catalog entry translated, nothing fuzzy, and
no string the code uses missing from the catalogs (makemessages run into a temporary copy), for
customers, admins and managers alike."""

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from scripts.check_translations import LANGUAGES, fresh_gaps, gaps

LOCALE = Path(settings.BASE_DIR) / "locale"


def test_every_shipped_language_has_a_catalog_and_a_compiled_one():
    assert [code for code, _ in settings.LANGUAGES] == ["en", *LANGUAGES]
    for lang in LANGUAGES:
        po = LOCALE / lang / "LC_MESSAGES" / "django.po"
        mo = po.with_suffix(".mo")
        assert po.exists() and mo.exists(), lang
        # A .mo older than its .po was not recompiled after the last edit.
        assert polib.mofile(str(mo)).translated_entries(), lang
        assert len(polib.mofile(str(mo))) == len(polib.pofile(str(po)).translated_entries()), lang


def test_no_catalog_entry_is_untranslated_or_fuzzy():
    assert [str(g) for g in gaps(LOCALE)] == []


PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%%|\{\w+\}|<[^>]+>")


def test_placeholders_and_markup_survive_translation():
    """Every %(name)s, %%, {name} and tag of the English text is in each translation (each plural
    form), and no other: a lost or misspelt one raises or shows garbage at run time."""
    wrong = []
    for lang in LANGUAGES:
        for domain in ("django", "djangojs"):
            for entry in polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / f"{domain}.po")):
                forms = (
                    [(entry.msgid, entry.msgstr)]
                    if not entry.msgid_plural
                    else [
                        (entry.msgid if n == 0 else entry.msgid_plural, text)
                        for n, text in sorted(entry.msgstr_plural.items())
                    ]
                )
                for source, text in forms:
                    if sorted(set(PLACEHOLDER.findall(source))) != sorted(
                        set(PLACEHOLDER.findall(text))
                    ):
                        wrong.append((lang, source, text))
    assert wrong == []


def test_compiled_catalogs_are_what_django_serves():
    with translation.override("pl"):
        assert (
            translation.gettext("Your answer has been recorded.") == "Odpowiedź została zapisana."
        )
    with translation.override("nl"):
        assert (
            translation.gettext("This survey link has expired.") == "Deze enquêtelink is verlopen."
        )


@pytest.mark.skipif(
    not shutil.which("xgettext") and not os.environ.get("CI_REQUIRE_GETTEXT"),
    reason="GNU gettext is not installed (CI installs it)",
)
def test_makemessages_finds_no_string_missing_from_the_catalogs():
    """Not only the customer's pages: a new string on a manager's or an admin's page that nobody
    translated fails here too, customer-facing ones listed first."""
    assert shutil.which("xgettext"), "GNU gettext is required in CI"
    found = sorted(fresh_gaps(), key=lambda g: not g.customer_facing)
    assert [("CUSTOMER " if g.customer_facing else "") + str(g) for g in found] == []
