"""The one input boundary: text that no database can store never gets past the door.

PostgreSQL refuses a NUL character (\\x00) in any text, and no database stores half of a UTF-16
surrogate pair; a JSON value nested a thousand levels deep overflows the code that walks it.
Rather than every view, serializer and import checking for them, everything from outside passes
one check here:

- `InputBoundaryMiddleware`: the address, query parameters, form fields, cookies, headers and
  the JSON bodies of views outside DRF (the designer's posts, the email providers' webhooks). A
  page answers with a 400 page in the reader's language, the API with `{"<field>": ["..."]}`.
- `JSONParser`: DRF's default parser; a bad string, key or depth is a 400 naming its path.
- `problem_in_row`: a CSV line of an import, rejected with the column it names.

`find_problem` is the rule all of them apply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from rest_framework import parsers, serializers
from rest_framework.pagination import LimitOffsetPagination

MAX_JSON_DEPTH = 32
MAX_PAGE_SIZE = 200
# A NUL, or one half of a surrogate pair on its own (JSON's "\ud800" decodes to one).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one piece of input: `field` names it as the client sent it."""

    field: str
    message: str

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field: [self.message]}


def _text_problem(text: str) -> str | None:
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return _("Contains a NUL character (\\x00), which is not allowed.")
    return _("Contains a character that is not valid Unicode text (a lone surrogate).")


def _shown(name: str) -> str:
    """A name as it can be shown and sent back in JSON: bad characters escaped."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def find_problem(data, path: str = "") -> Problem | None:
    """The first string, object key or nesting level in `data` (parsed JSON, or plain text)
    that cannot be stored, with its path ("questions.0.text.en"); None when all is well."""
    stack = [(data, path, 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            message = _text_problem(value)
            if message:
                return Problem(where or "body", message)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_JSON_DEPTH:
            return Problem(
                where or "body",
                _("Nested deeper than %(limit)d levels.") % {"limit": MAX_JSON_DEPTH},
            )
        if isinstance(value, dict):
            children = []
            for key, child in value.items():
                key = str(key)
                message = _text_problem(key)
                if message:
                    return Problem(
                        where or "body",
                        _("The name %(name)s: %(problem)s")
                        % {"name": repr(_shown(key)), "problem": message},
                    )
                children.append((child, f"{where}.{key}" if where else key, depth + 1))
        else:
            children = [
                (child, f"{where}.{i}" if where else str(i), depth + 1)
                for i, child in enumerate(value)
            ]
        stack.extend(reversed(children))  # the first problem in document order
    return None


def problem_in_pairs(pairs: Iterable[tuple[str, str]], *, prefix: str = "") -> Problem | None:
    """The first name or value of (name, value) pairs (a query, a form, cookies) that cannot be
    stored, named by its name."""
    for name, value in pairs:
        message = _text_problem(name)
        if message:
            return Problem(prefix + _shown(name), message)
        message = _text_problem(value)
        if message:
            return Problem(prefix + name, message)
    return None


def problem_in_row(columns: Iterable[str], cells: Iterable[str]) -> Problem | None:
    """The first cell of a CSV line that cannot be stored, named by its column."""
    return problem_in_pairs(zip(columns, cells, strict=False))


def _query_pairs(query: QueryDict) -> Iterable[tuple[str, str]]:
    for name, values in query.lists():
        for value in values:
            yield name, value


# --- pages and views outside DRF -------------------------------------------------------------------

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def shows_rejected_fields(view: Callable) -> Callable:
    """Mark a page that shows a rejected form field next to its own form, as a 400.

    The middleware then lets the POST through with the bad fields cleaned (NUL and lone
    surrogates removed) and names them in `request.rejected_fields` ({field: message}); the
    view must not store anything while that is non-empty."""
    view.shows_rejected_fields = True
    return view


def _is_drf(view: Callable) -> bool:
    from rest_framework.views import APIView  # DRF's views import this module's parser

    cls = getattr(view, "cls", None)
    return isinstance(cls, type) and issubclass(cls, APIView)


def _wants_json(request: HttpRequest, view: Callable) -> bool:
    if _is_drf(view) or request.path.startswith("/api/"):
        return True
    if "json" in (request.content_type or ""):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "html" not in accept


def _clean_query(query: QueryDict) -> QueryDict:
    clean = QueryDict(mutable=True)
    for name, values in query.lists():
        clean.setlist(_UNSTORABLE.sub("", name), [_UNSTORABLE.sub("", v) for v in values])
    clean._mutable = False
    return clean


class InputBoundaryMiddleware:
    """Answers 400 for a request that carries text no database can store, before its view runs.

    Runs after CSRF (process_view), so a forged form is still a 403. DRF views leave their
    bodies to `JSONParser`, which names the field in DRF's format."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs) -> HttpResponse | None:
        problem = (
            self._address_problem(request)
            or problem_in_pairs(_query_pairs(request.GET))
            or problem_in_pairs(request.COOKIES.items(), prefix="cookie ")
            or self._header_problem(request)
        )
        # DRF views read their bodies through JSONParser (and refuse a form with a 415).
        if problem is None and request.method in BODY_METHODS and not _is_drf(view):
            if request.content_type in FORM_TYPES:
                form = problem_in_pairs(_query_pairs(request.POST))
                if form is not None and getattr(view, "shows_rejected_fields", False):
                    request.rejected_fields = {
                        _UNSTORABLE.sub("", name): _text_problem(name + "".join(values))
                        for name, values in request.POST.lists()
                        if _text_problem(name + "".join(values))
                    }
                    request.POST = _clean_query(request.POST)
                    return None
                problem = form
            else:
                problem = self._body_problem(request)
        if problem is None:
            return None
        return self._reject(request, view, problem)

    @staticmethod
    def _address_problem(request: HttpRequest) -> Problem | None:
        message = _text_problem(request.path_info)
        return Problem("path", message) if message else None

    @staticmethod
    def _header_problem(request: HttpRequest) -> Problem | None:
        headers = ((k, v) for k, v in request.META.items() if k.startswith("HTTP_"))
        for name, value in headers:
            if isinstance(value, str) and "\x00" in value:
                return Problem("header " + name[5:].replace("_", "-").title(), _text_problem(value))
        return None

    @staticmethod
    def _body_problem(request: HttpRequest) -> Problem | None:
        """A JSON body read by a view outside DRF: the designer's preview, the webhooks."""
        body = request.body
        if not body or body.lstrip()[:1] not in (b"{", b"["):
            return None
        try:
            data = json.loads(body)
        except RecursionError:
            return Problem(
                "body", _("Nested deeper than %(limit)d levels.") % {"limit": MAX_JSON_DEPTH}
            )
        except ValueError:
            return None  # not JSON after all: the view says what it expected
        return find_problem(data)

    @staticmethod
    def _reject(request: HttpRequest, view, problem: Problem) -> HttpResponse:
        if _wants_json(request, view):
            return JsonResponse(problem.as_dict(), status=400)
        # Rendered without the request: its context processors would load the session and the
        # user, and the cookie naming them may be the bad input.
        page = render_to_string("400.html", {"problem": problem, "LANGUAGE_CODE": get_language()})
        response = HttpResponse(page, status=400)
        response["Cache-Control"] = "no-store"
        return response


# --- the API ----------------------------------------------------------------------------------------


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing text that cannot be stored and nesting deeper than
    MAX_JSON_DEPTH, with a 400 naming the path: {"questions.0.text.en": ["..."]}."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise serializers.ValidationError(
                {"body": [_("Nested deeper than %(limit)d levels.") % {"limit": MAX_JSON_DEPTH}]}
            ) from None
        problem = find_problem(data)
        if problem is not None:
            raise serializers.ValidationError(problem.as_dict())
        return data


class Pagination(LimitOffsetPagination):
    """limit/offset pages of at most MAX_PAGE_SIZE items; a larger limit gives that many."""

    max_limit = MAX_PAGE_SIZE

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"]["maximum"] = MAX_PAGE_SIZE
                parameter["description"] = (
                    f"Items per page: default {self.default_limit or 'PAGE_SIZE'}, at most "
                    f"{MAX_PAGE_SIZE} (a larger limit gives {MAX_PAGE_SIZE})."
                )
        return parameters
