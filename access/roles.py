"""The two roles of the product. Survey admins design and see everything; managers only read."""

SURVEY_ADMIN = "Survey admin"
MANAGER = "Manager"


def _groups(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_csat_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._csat_groups = cached
    return cached


def is_survey_admin(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or SURVEY_ADMIN in _groups(user)


def can_view_reports(user) -> bool:
    return is_survey_admin(user) or MANAGER in _groups(user)


def role_label(role: str) -> str:
    """A role's name in the reader's language."""
    from django.utils.translation import gettext

    labels = {SURVEY_ADMIN: gettext("Survey admin"), MANAGER: gettext("Manager")}
    return labels.get(role, role)
