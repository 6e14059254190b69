from rest_framework.permissions import BasePermission

from .authentication import ApiKeyUser
from .roles import can_view_reports, is_survey_admin


class IsSurveyAdmin(BasePermission):
    """Design and write access: survey admins (session) and API keys."""

    message = "This needs the Survey admin role or an API key."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, ApiKeyUser) or is_survey_admin(request.user)


class CanViewReports(BasePermission):
    """Read access to figures: managers, admins and API keys."""

    message = "This needs the Manager or Survey admin role or an API key."

    def has_permission(self, request, view) -> bool:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return False
        return isinstance(request.user, ApiKeyUser) or can_view_reports(request.user)
