"""The five shipped languages are complete: every catalog entry translated, nothing fuzzy, and
nothing a customer sees missing from the catalogs (makemessages run into a temporary copy)."""

import os
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


def test_placeholders_survive_translation():
    for lang in LANGUAGES:
        for entry in polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po")):
            for placeholder in ("%(name)s", "%(limit)s", "%(limit)d", "%(length)d", "{name}"):
                if placeholder in entry.msgid:
                    assert placeholder in entry.msgstr, (lang, entry.msgid)


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
def test_makemessages_finds_no_customer_facing_string_missing_from_the_catalogs():
    assert shutil.which("xgettext"), "GNU gettext is required in CI"
    found = fresh_gaps()
    assert [str(g) for g in found if g.customer_facing] == []
