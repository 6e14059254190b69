"""The API schema: how API keys and errors are documented."""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "access.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `python manage.py create_api_key NAME`.",
        }


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
        ]
    }
)
class _Messages(serializers.Field):
    pass


class ErrorSerializer(serializers.Serializer):
    """A refused request: `detail` says why; a bad field or parameter is a key of its own with
    its messages, e.g. {"questions.0.text.en": ["..."]} or {"slug": ["..."], "detail": "..."}."""

    detail = _Messages(required=False)


ERROR_DESCRIPTIONS = {
    400: "Bad input: the body or a parameter, named as a key with its messages.",
    401: "No API key or session, or an invalid or revoked key.",
    403: "The key or user has no role that may do this.",
    404: "Not found.",
    409: "Conflicts with the stored state (see `detail`).",
    415: "The body is not JSON (send Content-Type: application/json).",
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the errors each operation can answer: 400, 401 and 403
    everywhere, 404 where the path names something, 415 where there is a body, and those a
    view lists in `error_statuses` (e.g. 409, or {"post": (409,)} for one method). A view's own error schema is kept, and any 400
    may also be a plain error, which the input boundary answers before the view runs."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        extra = getattr(self.view, "error_statuses", ())
        if isinstance(extra, dict):
            extra = extra.get(self.method.lower(), ())
        codes = {400, 401, 403, *extra}
        if "{" in self.path:
            codes.add(404)
        if self.method in ("POST", "PUT", "PATCH"):
            codes.add(415)
        for code in sorted(codes):
            error = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                str(code),
                direction=direction,
            )
            own = responses.get(str(code))
            if own is None:
                responses[str(code)] = error
                continue
            for content in own.get("content", {}).values():
                content["schema"] = {
                    "anyOf": [content["schema"], error["content"]["application/json"]["schema"]]
                }
        return dict(sorted(responses.items()))
