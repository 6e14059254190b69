from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = "Follow-ups"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to surveys' response_recorded)
