from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = "Follow-ups"

    def ready(self) -> None:
        from privacy import signals as privacy_signals

        from . import privacy, receivers  # noqa: F401  (receivers: surveys' response_recorded)

        privacy_signals.erase_customer_data.connect(
            privacy.on_erase_customer_data, dispatch_uid="followups-erase"
        )
        privacy_signals.export_customer_data.connect(
            privacy.on_export_customer_data, dispatch_uid="followups-export"
        )
