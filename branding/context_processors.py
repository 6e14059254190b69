from django.utils.functional import SimpleLazyObject

from .selectors import current_brand


def brand(request) -> dict:
    """`brand` for every template, read only by a template that shows it (the customer's pages)."""
    return {"brand": SimpleLazyObject(current_brand)}
