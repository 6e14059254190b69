from rest_framework.permissions import SAFE_METHODS, BasePermission

from .authentication import ApiKeyUser
from .roles import can_view_reports, is_survey_admin


def key_may(request) -> bool:
    """An API key's scope: a full key does everything, a reports key only reads (403 on writes)."""
    return not request.user.api_key.read_only or request.method in SAFE_METHODS


class IsSurveyAdmin(BasePermission):
    """Design and write access: survey admins (session) and API keys (a reports key reads only)."""

    message = "This needs the Survey admin role or an API key with full access."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.user, ApiKeyUser):
            return key_may(request)
        return is_survey_admin(request.user)


class CanViewReports(BasePermission):
    """Read access to figures: managers, admins and API keys."""

    message = "This needs the Manager or Survey admin role or an API key."

    def has_permission(self, request, view) -> bool:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return False
        return isinstance(request.user, ApiKeyUser) or can_view_reports(request.user)
