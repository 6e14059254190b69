"""Response defaults that hold for every page, export and API answer of the product."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase


class PrivateByDefaultMiddleware:
    """`Cache-Control: private, no-store` on every dynamic response that sets nothing itself.

    Pages, exports and API answers carry customers' data and colleagues' work: no shared cache
    and no browser history may keep them. Static files are served before this (WhiteNoise) and
    keep their long-lived caching.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-store"
        return response
