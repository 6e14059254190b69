#!/usr/bin/env python
"""Keep the shipped translations complete.

    python scripts/check_translations.py           # update locale/*.po from the code, compile .mo,
                                                   # list what still needs a translation
    python scripts/check_translations.py --check   # the same into a temporary copy: changes nothing

Exit status 1 when any entry is untranslated or fuzzy (with --customer-facing: only entries used
by pages and mails customers see). Needs GNU gettext (xgettext, msgmerge, msgfmt) for the
makemessages step; the compiled .mo files are committed, so running the product does not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LANGUAGES = ("de", "nl", "pl", "da")
DOMAINS = ("django", "djangojs")
IGNORE = {
    "django": ["tests/*", "bench/*", "docs/*", "var/*", "static/*", "scripts/*", "locale/*"],
    "djangojs": ["tests/*", "bench/*", "docs/*", "var/*", "static/vendor/*", "node_modules/*"],
}
# Where customer-facing strings live: the answer, thank-you, closed and unsubscribe pages, the
# mails, and the messages the answer page's services raise.
CUSTOMER_FACING = (
    "templates/surveys/",
    "templates/emails/",
    "templates/public/",
    "unsubscribe",
    "surveys/responses.py",
    "surveys/views.py",
    "surveys/emails/",
    "surveys/answer_page.py",
)


@dataclass(frozen=True)
class Gap:
    language: str
    domain: str
    msgid: str
    files: tuple[str, ...]
    fuzzy: bool

    @property
    def customer_facing(self) -> bool:
        return any(marker in f for f in self.files for marker in CUSTOMER_FACING)

    def __str__(self) -> str:
        state = "fuzzy" if self.fuzzy else "untranslated"
        return f"{self.language} {self.domain} {state}: {self.msgid!r} ({', '.join(self.files)})"


def gaps(locale_dir: Path) -> list[Gap]:
    """Every untranslated or fuzzy entry of every shipped catalog under `locale_dir`."""
    import polib

    found = []
    for lang in LANGUAGES:
        for domain in DOMAINS:
            path = locale_dir / lang / "LC_MESSAGES" / f"{domain}.po"
            if not path.exists():
                if domain == "django":
                    found.append(Gap(lang, domain, "(catalog missing)", (str(path),), False))
                continue
            for entry in polib.pofile(str(path)):
                if entry.obsolete:
                    continue
                fuzzy = "fuzzy" in entry.flags
                if fuzzy or not entry.translated():
                    files = tuple(sorted({f for f, _ in entry.occurrences}))
                    found.append(Gap(lang, domain, entry.msgid, files, fuzzy))
    return found


def make_messages(root: Path = BASE_DIR) -> None:
    """Run makemessages over the code under `root`, updating the catalogs in `root`/locale."""
    import django
    from django.core.management import call_command
    from django.test.utils import override_settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csat_platform.settings")
    os.environ.setdefault("DEBUG", "1")
    django.setup()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        # makemessages files every string under the first locale directory that is a sibling
        # of an ancestor of the source file, so a run in a copy of the tree stays in the copy.
        with override_settings(LOCALE_PATHS=[str(root / "locale")]):
            for domain in DOMAINS:
                call_command(
                    "makemessages",
                    locale=list(LANGUAGES),
                    domain=domain,
                    ignore_patterns=IGNORE[domain],
                    add_location="file",
                    no_obsolete=True,
                    verbosity=0,
                )
    finally:
        os.chdir(cwd)


def compile_messages(locale_dir: Path) -> None:
    from django.core.management import call_command
    from django.test.utils import override_settings

    with override_settings(LOCALE_PATHS=[str(locale_dir)]):
        call_command("compilemessages", locale=list(LANGUAGES), verbosity=0)


def fresh_gaps() -> list[Gap]:
    """The gaps makemessages would show now, computed in a temporary copy of locale/."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "tree"
        shutil.copytree(
            BASE_DIR,
            copy,
            ignore=shutil.ignore_patterns(
                ".*", "var", "node_modules", "__pycache__", "*.pyc", "*.png", "*.mo"
            ),
        )
        make_messages(copy)
        return gaps(copy / "locale")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; use a temp copy")
    parser.add_argument(
        "--customer-facing", action="store_true", help="fail only on customer-facing entries"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BASE_DIR))
    if not shutil.which("xgettext"):
        print("GNU gettext (xgettext) is needed: apt-get install gettext", file=sys.stderr)
        return 2
    if args.check:
        found = fresh_gaps()
    else:
        make_messages(BASE_DIR)
        compile_messages(BASE_DIR / "locale")
        found = gaps(BASE_DIR / "locale")
    failing = [g for g in found if g.customer_facing or not args.customer_facing]
    for gap in found:
        print(("CUSTOMER " if gap.customer_facing else "") + str(gap))
    print(
        f"{len(found)} entries need a translation ({sum(g.customer_facing for g in found)} customer-facing)."
    )
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
