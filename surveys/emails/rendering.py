"""How every mail of the product is rendered: a template triplet per kind of message (subject,
text body, HTML body), in the language active at the call. A subject is plain text: nothing in
it is HTML-escaped, and its white space is folded onto one line."""

from __future__ import annotations

from django.template import Context
from django.template.loader import get_template, render_to_string


def render_subject(kind: str, context: dict) -> str:
    """`<kind>_subject.txt` as plain text, on one line."""
    template = get_template(f"{kind}_subject.txt").template
    return " ".join(template.render(Context(context, autoescape=False)).split())


def render_triplet(kind: str, context: dict) -> tuple[str, str, str]:
    """Subject, text body and HTML body of `kind` (a template path without its suffix)."""
    return (
        render_subject(kind, context),
        render_to_string(f"{kind}.txt", context),
        render_to_string(f"{kind}.html", context),
    )
