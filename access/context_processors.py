from .roles import can_view_reports, is_survey_admin

_SECTIONS = (("/design", "design"), ("/dashboard", "dashboard"), ("/mailbox", "mailbox"))


def roles(request) -> dict:
    user = getattr(request, "user", None)
    path = getattr(request, "path", "")
    section = next((name for prefix, name in _SECTIONS if path.startswith(prefix)), "")
    return {
        "section": section,
        "is_survey_admin": is_survey_admin(user),
        "can_view_reports": can_view_reports(user),
    }
